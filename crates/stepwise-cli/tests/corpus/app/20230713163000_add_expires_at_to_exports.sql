-- stepwise:up
ALTER TABLE exports ADD COLUMN expires_at timestamptz;

-- stepwise:down
ALTER TABLE exports DROP COLUMN expires_at;
