-- stepwise:up
ALTER TABLE sellers ADD COLUMN country text;

-- stepwise:down
ALTER TABLE sellers DROP COLUMN country;
