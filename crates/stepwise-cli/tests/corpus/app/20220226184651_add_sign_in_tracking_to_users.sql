-- stepwise:up
ALTER TABLE users ADD COLUMN last_sign_in_at timestamp;
ALTER TABLE users ADD COLUMN sign_in_count integer NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE users DROP COLUMN sign_in_count;
ALTER TABLE users DROP COLUMN last_sign_in_at;
