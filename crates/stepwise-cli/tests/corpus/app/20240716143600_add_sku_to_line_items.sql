-- stepwise:up
ALTER TABLE line_items ADD COLUMN sku text;

-- stepwise:down
ALTER TABLE line_items DROP COLUMN sku;
