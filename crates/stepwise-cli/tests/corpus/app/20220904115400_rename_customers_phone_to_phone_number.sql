-- stepwise:up
ALTER TABLE customers RENAME COLUMN phone TO phone_number;

-- stepwise:down
ALTER TABLE customers RENAME COLUMN phone_number TO phone;
