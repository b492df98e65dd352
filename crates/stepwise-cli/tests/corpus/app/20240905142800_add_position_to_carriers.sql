-- stepwise:up
ALTER TABLE carriers ADD COLUMN position serial;

-- stepwise:down
ALTER TABLE carriers DROP COLUMN position;
