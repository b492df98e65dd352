-- stepwise:up
ALTER TABLE orders ADD COLUMN status text;

-- stepwise:down
ALTER TABLE orders DROP COLUMN status;
