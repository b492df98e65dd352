-- stepwise:up
ALTER TABLE accounts ADD COLUMN logo_url text;

-- stepwise:down
ALTER TABLE accounts DROP COLUMN logo_url;
