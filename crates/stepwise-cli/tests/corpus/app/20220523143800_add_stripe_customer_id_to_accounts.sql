-- stepwise:up
ALTER TABLE accounts ADD COLUMN stripe_customer_id varchar(255);
-- stepwise:ignore require-concurrent-index accounts has 3k rows; reviewed with the on-call DBA
CREATE UNIQUE INDEX index_accounts_on_stripe_customer_id ON accounts (stripe_customer_id);

-- stepwise:down
DROP INDEX index_accounts_on_stripe_customer_id;
ALTER TABLE accounts DROP COLUMN stripe_customer_id;
