-- stepwise:up
ALTER TABLE invoices ADD COLUMN payment_terms_days integer NOT NULL DEFAULT 30;
ALTER TABLE invoices ADD COLUMN due_at timestamptz NOT NULL;

-- stepwise:down
ALTER TABLE invoices DROP COLUMN due_at;
ALTER TABLE invoices DROP COLUMN payment_terms_days;
