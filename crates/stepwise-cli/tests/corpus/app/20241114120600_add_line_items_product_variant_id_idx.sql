-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY line_items_product_variant_id_idx ON line_items (product_variant_id);

-- stepwise:down
DROP INDEX CONCURRENTLY line_items_product_variant_id_idx;
