-- stepwise:up
CREATE INDEX orders_source_idx ON orders (account_id, source);

-- stepwise:down
DROP INDEX orders_source_idx;
