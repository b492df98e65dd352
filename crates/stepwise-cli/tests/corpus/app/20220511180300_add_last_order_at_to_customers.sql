-- stepwise:up
ALTER TABLE customers ADD COLUMN last_order_at timestamptz;

-- stepwise:down
ALTER TABLE customers DROP COLUMN last_order_at;
