-- stepwise:up
ALTER TABLE users ADD COLUMN locked_at timestamptz;

-- stepwise:down
ALTER TABLE users DROP COLUMN locked_at;
