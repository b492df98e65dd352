-- stepwise:up
ALTER TABLE accounts ADD COLUMN country char(2);

-- stepwise:down
ALTER TABLE accounts DROP COLUMN country;
