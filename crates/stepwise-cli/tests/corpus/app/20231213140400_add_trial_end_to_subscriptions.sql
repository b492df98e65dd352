-- stepwise:up
ALTER TABLE subscriptions ADD COLUMN trial_end timestamptz;

-- stepwise:down
ALTER TABLE subscriptions DROP COLUMN trial_end;
