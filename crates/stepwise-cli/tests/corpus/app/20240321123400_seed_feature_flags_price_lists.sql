-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('price_lists', 'Customer-specific price lists'),
    ('b2b_invoicing', 'Net-30 invoices for B2B customers')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('price_lists', 'b2b_invoicing');
