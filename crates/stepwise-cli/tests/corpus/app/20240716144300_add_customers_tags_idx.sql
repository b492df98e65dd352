-- stepwise:up
CREATE INDEX customers_tags_idx ON customers USING gin (tags);

-- stepwise:down
DROP INDEX customers_tags_idx;
