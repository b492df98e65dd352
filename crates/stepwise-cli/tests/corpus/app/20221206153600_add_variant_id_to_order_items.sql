-- stepwise:up
ALTER TABLE order_items ADD COLUMN product_variant_id bigint;

-- stepwise:down
ALTER TABLE order_items DROP COLUMN product_variant_id;
