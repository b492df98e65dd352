-- stepwise:up
ALTER TABLE reviews ADD COLUMN helpful_count integer NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE reviews DROP COLUMN helpful_count;
