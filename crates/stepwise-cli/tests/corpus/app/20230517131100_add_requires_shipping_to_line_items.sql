-- stepwise:up
ALTER TABLE line_items ADD COLUMN requires_shipping boolean NOT NULL DEFAULT true;

-- stepwise:down
ALTER TABLE line_items DROP COLUMN requires_shipping;
