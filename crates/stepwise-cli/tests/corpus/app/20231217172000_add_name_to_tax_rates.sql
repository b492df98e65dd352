-- stepwise:up
ALTER TABLE tax_rates ADD COLUMN name text;

-- stepwise:down
ALTER TABLE tax_rates DROP COLUMN name;
