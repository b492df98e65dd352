-- stepwise:up
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret text;
ALTER TABLE webhook_endpoints ADD COLUMN secret_rotated_at timestamptz;

-- stepwise:down
ALTER TABLE webhook_endpoints DROP COLUMN secret_rotated_at;
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret;
