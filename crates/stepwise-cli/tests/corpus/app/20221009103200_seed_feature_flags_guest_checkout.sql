-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('guest_checkout', 'Checkout without an account'),
    ('multi_currency', 'Prices in several currencies')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('guest_checkout', 'multi_currency');
