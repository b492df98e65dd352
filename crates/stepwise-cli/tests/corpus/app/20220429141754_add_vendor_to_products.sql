-- stepwise:up
ALTER TABLE products ADD COLUMN vendor varchar(255);

-- stepwise:down
ALTER TABLE products DROP COLUMN vendor;
