-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('inventory_tracking', 'Per-warehouse stock levels'),
    ('low_stock_alerts', 'Email when stock drops under a threshold')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('inventory_tracking', 'low_stock_alerts');
