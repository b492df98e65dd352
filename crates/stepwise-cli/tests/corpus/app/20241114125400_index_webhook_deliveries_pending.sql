-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY webhook_deliveries_pending_idx;
