-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY index_users_on_last_sign_in_at ON users (last_sign_in_at);

-- stepwise:down
DROP INDEX CONCURRENTLY index_users_on_last_sign_in_at;
