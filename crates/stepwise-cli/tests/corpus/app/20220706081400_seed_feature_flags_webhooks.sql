-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('webhooks', 'Outgoing webhooks (beta)'),
    ('bulk_order_export', 'CSV export of orders')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('webhooks', 'bulk_order_export');
