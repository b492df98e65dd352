-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('marketplace', 'Third-party sellers'),
    ('seller_payouts', 'Weekly payouts to sellers')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('marketplace', 'seller_payouts');
