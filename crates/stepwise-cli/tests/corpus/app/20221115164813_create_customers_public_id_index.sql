-- stepwise:no-transaction
-- stepwise:up
CREATE UNIQUE INDEX CONCURRENTLY customers_public_id_key ON customers (public_id);

-- stepwise:down
DROP INDEX CONCURRENTLY customers_public_id_key;
