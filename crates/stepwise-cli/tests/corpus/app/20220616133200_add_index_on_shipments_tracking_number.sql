-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_shipments_on_tracking_number ON shipments (tracking_number);

-- stepwise:down
DROP INDEX CONCURRENTLY IF EXISTS index_shipments_on_tracking_number;
