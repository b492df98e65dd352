-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY users_confirmed_at_idx ON users (confirmed_at) WHERE confirmed_at IS NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY users_confirmed_at_idx;
