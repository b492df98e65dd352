-- stepwise:up
ALTER TABLE line_items ADD COLUMN discount_cents bigint NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE line_items DROP COLUMN discount_cents;
