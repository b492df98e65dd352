-- stepwise:up
ALTER TABLE orders ADD COLUMN discount_cents bigint NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE orders DROP COLUMN discount_cents;
