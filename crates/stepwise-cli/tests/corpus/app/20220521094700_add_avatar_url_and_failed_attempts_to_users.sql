-- stepwise:up
ALTER TABLE users ADD COLUMN avatar_url text;
ALTER TABLE users ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE users DROP COLUMN failed_attempts;
ALTER TABLE users DROP COLUMN avatar_url;
