-- stepwise:up
ALTER TABLE accounts ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';

-- stepwise:down
ALTER TABLE accounts DROP COLUMN timezone;
ALTER TABLE accounts DROP COLUMN settings;
