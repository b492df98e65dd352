-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY orders_cancelled_at_idx ON orders (cancelled_at) WHERE cancelled_at IS NOT NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY orders_cancelled_at_idx;
