-- stepwise:up
ALTER TABLE customers ADD COLUMN locale text;

-- stepwise:down
ALTER TABLE customers DROP COLUMN locale;
