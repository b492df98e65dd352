-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('reviews', 'Product reviews'),
    ('review_moderation', 'Hold reviews with links for moderation')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('reviews', 'review_moderation');
