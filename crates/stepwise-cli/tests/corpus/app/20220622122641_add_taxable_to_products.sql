-- stepwise:up
ALTER TABLE products ADD COLUMN taxable boolean;

-- stepwise:down
ALTER TABLE products DROP COLUMN taxable;
