-- stepwise:up
ALTER TABLE accounts ADD COLUMN trial_ends_at timestamp;

-- stepwise:down
ALTER TABLE accounts DROP COLUMN trial_ends_at;
