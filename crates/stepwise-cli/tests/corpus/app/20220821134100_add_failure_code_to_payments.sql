-- stepwise:up
ALTER TABLE payments ADD COLUMN failure_code text;

-- stepwise:down
ALTER TABLE payments DROP COLUMN failure_code;
