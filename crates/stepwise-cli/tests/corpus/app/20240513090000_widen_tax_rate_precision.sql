-- stepwise:up
ALTER TABLE tax_rates ALTER COLUMN rate TYPE numeric(7, 4);

-- stepwise:down
ALTER TABLE tax_rates ALTER COLUMN rate TYPE numeric(5, 4);
