-- stepwise:up
ALTER TABLE orders ADD COLUMN ip_address inet;

-- stepwise:down
ALTER TABLE orders DROP COLUMN ip_address;
