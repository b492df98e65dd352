-- stepwise:up
ALTER TABLE invoices ADD CONSTRAINT invoices_account_id_number_key UNIQUE (account_id, number);

-- stepwise:down
ALTER TABLE invoices DROP CONSTRAINT invoices_account_id_number_key;
