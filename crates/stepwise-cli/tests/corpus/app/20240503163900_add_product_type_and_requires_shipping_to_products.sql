-- stepwise:up
ALTER TABLE products ADD COLUMN product_type text;
ALTER TABLE products ADD COLUMN requires_shipping boolean NOT NULL DEFAULT true;

-- stepwise:down
ALTER TABLE products DROP COLUMN requires_shipping;
ALTER TABLE products DROP COLUMN product_type;
