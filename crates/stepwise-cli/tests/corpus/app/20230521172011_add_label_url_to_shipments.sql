-- stepwise:up
ALTER TABLE shipments ADD COLUMN label_url text;

-- stepwise:down
ALTER TABLE shipments DROP COLUMN label_url;
