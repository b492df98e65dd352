-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('sso_saml', 'SAML single sign-on for the Business plan')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('sso_saml');
