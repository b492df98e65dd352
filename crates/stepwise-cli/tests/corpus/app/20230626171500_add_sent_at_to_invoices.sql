-- stepwise:up
ALTER TABLE invoices ADD COLUMN sent_at timestamptz;

-- stepwise:down
ALTER TABLE invoices DROP COLUMN sent_at;
