-- stepwise:up
ALTER TABLE shipments ADD COLUMN weight_grams integer;

-- stepwise:down
ALTER TABLE shipments DROP COLUMN weight_grams;
