-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY orders_subscription_id_idx ON orders (subscription_id) WHERE subscription_id IS NOT NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY orders_subscription_id_idx;
