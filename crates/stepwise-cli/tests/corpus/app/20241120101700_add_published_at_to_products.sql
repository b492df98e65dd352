-- stepwise:up
ALTER TABLE products ADD COLUMN published_at timestamptz;

-- stepwise:down
ALTER TABLE products DROP COLUMN published_at;
