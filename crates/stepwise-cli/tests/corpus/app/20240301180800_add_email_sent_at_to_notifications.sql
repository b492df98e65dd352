-- stepwise:up
ALTER TABLE notifications ADD COLUMN email_sent_at timestamptz;

-- stepwise:down
ALTER TABLE notifications DROP COLUMN email_sent_at;
