-- stepwise:up
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['read', 'write'];
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

-- stepwise:down
ALTER TABLE api_keys DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN scopes;
