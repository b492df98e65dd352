-- stepwise:up
CLUSTER audit_logs USING index_audit_logs_on_account_id_and_created_at;

-- stepwise:down
-- nothing to undo
