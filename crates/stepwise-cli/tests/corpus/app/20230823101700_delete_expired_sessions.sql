-- stepwise:up
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';

-- stepwise:down
-- data fix, not reversible
