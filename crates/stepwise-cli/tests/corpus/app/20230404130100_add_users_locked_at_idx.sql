-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY users_locked_at_idx ON users (locked_at) WHERE locked_at IS NOT NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY users_locked_at_idx;
