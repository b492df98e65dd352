-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);

-- stepwise:down
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
