-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY line_items_product_id_idx ON line_items (product_id);

-- stepwise:down
DROP INDEX CONCURRENTLY line_items_product_id_idx;
