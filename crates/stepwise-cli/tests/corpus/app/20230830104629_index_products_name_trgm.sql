-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY products_name_trgm_idx ON products USING gin (name gin_trgm_ops);

-- stepwise:down
DROP INDEX CONCURRENTLY products_name_trgm_idx;
