-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('search_v2', 'Full-text search on customers and products'),
    ('fuzzy_product_search', 'Trigram search on product names')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('search_v2', 'fuzzy_product_search');
