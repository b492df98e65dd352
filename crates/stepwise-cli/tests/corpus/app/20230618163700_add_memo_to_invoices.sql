-- stepwise:up
ALTER TABLE invoices ADD COLUMN memo text;

-- stepwise:down
ALTER TABLE invoices DROP COLUMN memo;
