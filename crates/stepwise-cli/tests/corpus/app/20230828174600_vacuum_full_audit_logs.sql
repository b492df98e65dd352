-- stepwise:no-transaction
-- stepwise:up
VACUUM FULL audit_logs;

-- stepwise:down
-- nothing to undo
