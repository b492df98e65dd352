-- stepwise:up
ALTER TABLE customers ADD COLUMN birthday date;
ALTER TABLE customers ADD COLUMN orders_count integer NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE customers DROP COLUMN orders_count;
ALTER TABLE customers DROP COLUMN birthday;
