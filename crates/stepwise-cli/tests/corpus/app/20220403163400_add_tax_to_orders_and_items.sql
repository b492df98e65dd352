-- stepwise:up
ALTER TABLE orders ADD COLUMN tax_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE order_items ADD COLUMN tax_cents integer NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE order_items DROP COLUMN tax_cents;
ALTER TABLE orders DROP COLUMN tax_cents;
