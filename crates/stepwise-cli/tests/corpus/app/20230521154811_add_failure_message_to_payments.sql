-- stepwise:up
ALTER TABLE payments ADD COLUMN failure_message text;

-- stepwise:down
ALTER TABLE payments DROP COLUMN failure_message;
