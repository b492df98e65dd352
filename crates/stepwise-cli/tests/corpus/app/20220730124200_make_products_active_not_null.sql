-- stepwise:up
UPDATE products SET active = true WHERE active IS NULL;
ALTER TABLE products ALTER COLUMN active SET NOT NULL;

-- stepwise:down
ALTER TABLE products ALTER COLUMN active DROP NOT NULL;
