-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY customers_email_domain_idx ON customers (email_domain);

-- stepwise:down
DROP INDEX CONCURRENTLY customers_email_domain_idx;
