-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY customers_search_vector_idx ON customers USING gin (search_vector);

-- stepwise:down
DROP INDEX CONCURRENTLY customers_search_vector_idx;
