-- stepwise:no-transaction
-- stepwise:up
DROP INDEX CONCURRENTLY IF EXISTS index_customers_on_account_id_and_email;

-- stepwise:down
CREATE INDEX CONCURRENTLY index_customers_on_account_id_and_email ON customers (account_id, email);
