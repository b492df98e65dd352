-- stepwise:up
ALTER TABLE audit_logs ALTER COLUMN changes TYPE jsonb USING changes::jsonb;

-- stepwise:down
ALTER TABLE audit_logs ALTER COLUMN changes TYPE json USING changes::json;
