-- stepwise:up
ALTER TABLE payments ADD COLUMN captured_at timestamptz;

-- stepwise:down
ALTER TABLE payments DROP COLUMN captured_at;
