-- stepwise:up
ALTER TABLE product_variants ADD COLUMN barcode text;

-- stepwise:down
ALTER TABLE product_variants DROP COLUMN barcode;
