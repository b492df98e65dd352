-- stepwise:up
ALTER TABLE line_items ADD COLUMN name text;

-- stepwise:down
ALTER TABLE line_items DROP COLUMN name;
