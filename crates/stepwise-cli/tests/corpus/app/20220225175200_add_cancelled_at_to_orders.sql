-- stepwise:up
ALTER TABLE orders ADD COLUMN cancelled_at timestamptz;

-- stepwise:down
ALTER TABLE orders DROP COLUMN cancelled_at;
