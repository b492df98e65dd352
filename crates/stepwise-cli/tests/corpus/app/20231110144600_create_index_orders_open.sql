-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY orders_open_idx ON orders (account_id, created_at) WHERE status IN ('pending', 'paid');

-- stepwise:down
DROP INDEX CONCURRENTLY orders_open_idx;
