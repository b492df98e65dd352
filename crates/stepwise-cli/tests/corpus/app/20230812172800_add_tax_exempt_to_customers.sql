-- stepwise:up
ALTER TABLE customers ADD COLUMN tax_exempt boolean NOT NULL DEFAULT false;

-- stepwise:down
ALTER TABLE customers DROP COLUMN tax_exempt;
