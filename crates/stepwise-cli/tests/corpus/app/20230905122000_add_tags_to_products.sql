-- stepwise:up
ALTER TABLE products ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

-- stepwise:down
ALTER TABLE products DROP COLUMN tags;
