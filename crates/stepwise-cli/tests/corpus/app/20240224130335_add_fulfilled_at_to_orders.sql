-- stepwise:up
ALTER TABLE orders ADD COLUMN fulfilled_at timestamp;

-- stepwise:down
ALTER TABLE orders DROP COLUMN fulfilled_at;
