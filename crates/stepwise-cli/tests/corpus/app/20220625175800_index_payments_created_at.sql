-- stepwise:up
CREATE INDEX ON payments (created_at);

-- stepwise:down
DROP INDEX payments_created_at_idx;
