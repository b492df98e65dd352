-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('returns_portal', 'Self-service returns'),
    ('store_credit', 'Refund to store credit')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('returns_portal', 'store_credit');
