-- stepwise:up
ALTER TABLE invoices ALTER COLUMN issued_at TYPE timestamptz;

-- stepwise:down
ALTER TABLE invoices ALTER COLUMN issued_at TYPE timestamp;
