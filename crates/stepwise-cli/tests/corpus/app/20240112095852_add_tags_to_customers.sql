-- stepwise:up
ALTER TABLE customers ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

-- stepwise:down
ALTER TABLE customers DROP COLUMN tags;
