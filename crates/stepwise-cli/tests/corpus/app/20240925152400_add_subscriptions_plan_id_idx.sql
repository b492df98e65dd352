-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY subscriptions_plan_id_idx ON subscriptions (plan_id);

-- stepwise:down
DROP INDEX CONCURRENTLY subscriptions_plan_id_idx;
