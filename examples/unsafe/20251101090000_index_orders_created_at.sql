-- A migration as it is often first written: it blocks every write to
-- orders while the index builds. `stepwise lint` says what to write instead.
-- stepwise:up
CREATE INDEX orders_created_at_idx ON orders (created_at);

-- stepwise:down
DROP INDEX orders_created_at_idx;
