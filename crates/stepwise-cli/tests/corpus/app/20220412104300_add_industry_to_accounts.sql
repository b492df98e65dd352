-- stepwise:up
ALTER TABLE accounts ADD COLUMN industry varchar(100);

-- stepwise:down
ALTER TABLE accounts DROP COLUMN industry;
