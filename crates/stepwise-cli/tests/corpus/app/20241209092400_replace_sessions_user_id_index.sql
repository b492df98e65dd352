-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY sessions_user_id_expires_at_idx ON sessions (user_id, expires_at);
DROP INDEX CONCURRENTLY index_sessions_on_user_id;

-- stepwise:down
CREATE INDEX CONCURRENTLY index_sessions_on_user_id ON sessions (user_id);
DROP INDEX CONCURRENTLY sessions_user_id_expires_at_idx;
