-- stepwise:up
ALTER TABLE orders ADD COLUMN metadata json;
ALTER TABLE orders ADD COLUMN source text;

-- stepwise:down
ALTER TABLE orders DROP COLUMN source;
ALTER TABLE orders DROP COLUMN metadata;
