-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY customers_last_order_at_idx ON customers (account_id, last_order_at DESC);

-- stepwise:down
DROP INDEX CONCURRENTLY customers_last_order_at_idx;
