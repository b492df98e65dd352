-- stepwise:up
ALTER TABLE invoices ADD COLUMN voided_at timestamptz;

-- stepwise:down
ALTER TABLE invoices DROP COLUMN voided_at;
