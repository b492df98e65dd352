-- stepwise:up
ALTER TABLE users ADD COLUMN last_login_at timestamptz;
-- stepwise:down
ALTER TABLE users DROP COLUMN last_login_at;
