-- stepwise:up
ALTER TABLE products ADD COLUMN sku varchar(64);
CREATE UNIQUE INDEX index_products_on_account_id_and_sku ON products (account_id, sku);

-- stepwise:down
DROP INDEX index_products_on_account_id_and_sku;
ALTER TABLE products DROP COLUMN sku;
