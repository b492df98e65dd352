-- stepwise:up
ALTER TABLE customers ADD CONSTRAINT customers_account_id_email_key UNIQUE USING INDEX customers_account_id_email_key;

-- stepwise:down
ALTER TABLE customers DROP CONSTRAINT customers_account_id_email_key;
