-- stepwise:up
ALTER TABLE products ADD COLUMN seller_id bigint REFERENCES sellers (id);

-- stepwise:down
ALTER TABLE products DROP COLUMN seller_id;
