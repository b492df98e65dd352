-- External ids for the ERP sync.
-- stepwise:up
ALTER TABLE customers ADD COLUMN external_id varchar(255);
ALTER TABLE products ADD COLUMN external_id varchar(255);
ALTER TABLE orders ADD COLUMN external_id varchar(255);
CREATE INDEX index_orders_on_external_id ON orders (external_id);

-- stepwise:down
DROP INDEX index_orders_on_external_id;
ALTER TABLE orders DROP COLUMN external_id;
ALTER TABLE products DROP COLUMN external_id;
ALTER TABLE customers DROP COLUMN external_id;
