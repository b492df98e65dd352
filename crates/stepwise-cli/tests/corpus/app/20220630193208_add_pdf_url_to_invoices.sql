-- stepwise:up
ALTER TABLE invoices ADD COLUMN pdf_url text;

-- stepwise:down
ALTER TABLE invoices DROP COLUMN pdf_url;
