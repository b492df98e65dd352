-- stepwise:no-transaction
-- stepwise:up
CREATE UNIQUE INDEX CONCURRENTLY customers_account_id_email_key ON customers (account_id, email);

-- stepwise:down
DROP INDEX CONCURRENTLY customers_account_id_email_key;
