-- stepwise:up
ALTER TABLE customers ADD COLUMN notes text;

-- stepwise:down
ALTER TABLE customers DROP COLUMN notes;
