-- stepwise:up
CREATE INDEX ON products (account_id, vendor);

-- stepwise:down
-- the index has a generated name; find it with \di products*
