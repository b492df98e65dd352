-- stepwise:up
ALTER TABLE orders ADD COLUMN shipping_cents bigint NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE orders DROP COLUMN shipping_cents;
