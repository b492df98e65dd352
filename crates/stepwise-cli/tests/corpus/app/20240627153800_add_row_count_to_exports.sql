-- stepwise:up
ALTER TABLE exports ADD COLUMN row_count integer;

-- stepwise:down
ALTER TABLE exports DROP COLUMN row_count;
