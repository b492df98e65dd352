-- stepwise:up
ALTER TABLE users ADD COLUMN confirmed_at timestamp;

-- stepwise:down
ALTER TABLE users DROP COLUMN confirmed_at;
