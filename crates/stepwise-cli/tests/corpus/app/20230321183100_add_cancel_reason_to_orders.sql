-- stepwise:up
ALTER TABLE orders ADD COLUMN cancel_reason text;

-- stepwise:down
ALTER TABLE orders DROP COLUMN cancel_reason;
