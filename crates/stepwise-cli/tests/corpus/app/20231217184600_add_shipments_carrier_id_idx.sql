-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY shipments_carrier_id_idx ON shipments (carrier_id);

-- stepwise:down
DROP INDEX CONCURRENTLY shipments_carrier_id_idx;
