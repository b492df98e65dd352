-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY products_tags_idx ON products USING gin (tags);

-- stepwise:down
DROP INDEX CONCURRENTLY products_tags_idx;
