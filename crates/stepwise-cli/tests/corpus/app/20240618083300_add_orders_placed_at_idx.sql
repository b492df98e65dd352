-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (account_id, placed_at DESC);

-- stepwise:down
DROP INDEX CONCURRENTLY orders_placed_at_idx;
