-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY index_customers_on_account_id_active ON customers (account_id) WHERE deleted_at IS NULL;
CREATE INDEX CONCURRENTLY index_products_on_account_id_active ON products (account_id) WHERE deleted_at IS NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY index_products_on_account_id_active;
DROP INDEX CONCURRENTLY index_customers_on_account_id_active;
