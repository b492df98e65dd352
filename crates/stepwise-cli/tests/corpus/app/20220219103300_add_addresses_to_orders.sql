-- stepwise:up
ALTER TABLE orders ADD COLUMN shipping_address_id bigint REFERENCES addresses (id);
ALTER TABLE orders ADD COLUMN billing_address_id bigint REFERENCES addresses (id);

-- stepwise:down
ALTER TABLE orders DROP COLUMN billing_address_id;
ALTER TABLE orders DROP COLUMN shipping_address_id;
