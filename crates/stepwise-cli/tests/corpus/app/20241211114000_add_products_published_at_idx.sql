-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY products_published_at_idx ON products (account_id, published_at) WHERE published_at IS NOT NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY products_published_at_idx;
