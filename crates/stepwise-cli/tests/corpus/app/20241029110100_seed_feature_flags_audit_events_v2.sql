-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('audit_events_v2', 'Write audit events to the partitioned table')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('audit_events_v2');
