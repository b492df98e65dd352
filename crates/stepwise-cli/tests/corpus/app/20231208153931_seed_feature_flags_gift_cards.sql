-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('gift_cards', 'Sell and redeem gift cards')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('gift_cards');
