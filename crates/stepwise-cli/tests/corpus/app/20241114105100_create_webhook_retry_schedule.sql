-- stepwise:up
ALTER TABLE webhook_deliveries ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE webhook_deliveries ADD COLUMN last_error text;

-- stepwise:down
ALTER TABLE webhook_deliveries DROP COLUMN last_error;
ALTER TABLE webhook_deliveries DROP COLUMN next_attempt_at;
