-- stepwise:up
CREATE INDEX ON email_deliveries (to_address);

-- stepwise:down
-- the index has a generated name; find it with \di email_deliveries*
