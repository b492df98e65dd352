-- stepwise:up
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_product_variant_id_fkey;

-- stepwise:down
-- nothing to undo
