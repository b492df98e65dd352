-- stepwise:up
ALTER TABLE subscriptions ADD COLUMN pause_collection jsonb;

-- stepwise:down
ALTER TABLE subscriptions DROP COLUMN pause_collection;
