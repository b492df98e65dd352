-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('subscriptions', 'Recurring orders'),
    ('dunning_emails', 'Retry failed subscription payments and email the customer')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('subscriptions', 'dunning_emails');
