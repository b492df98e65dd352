-- stepwise:up
ALTER TABLE order_items
    ADD CONSTRAINT order_items_product_variant_id_fkey
    FOREIGN KEY (product_variant_id) REFERENCES product_variants (id) NOT VALID;

-- stepwise:down
ALTER TABLE order_items DROP CONSTRAINT order_items_product_variant_id_fkey;
