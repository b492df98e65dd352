-- stepwise:up
ALTER TABLE users ADD COLUMN time_zone text;

-- stepwise:down
ALTER TABLE users DROP COLUMN time_zone;
