-- stepwise:up
-- stepwise:ignore require-concurrent-index accounts has 4k rows and this runs in the maintenance window
CREATE INDEX accounts_settings_idx ON accounts USING gin (settings jsonb_path_ops);

-- stepwise:down
DROP INDEX accounts_settings_idx;
