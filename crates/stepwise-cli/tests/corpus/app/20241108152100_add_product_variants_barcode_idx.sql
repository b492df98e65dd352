-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY product_variants_barcode_idx ON product_variants (barcode);

-- stepwise:down
DROP INDEX CONCURRENTLY product_variants_barcode_idx;
