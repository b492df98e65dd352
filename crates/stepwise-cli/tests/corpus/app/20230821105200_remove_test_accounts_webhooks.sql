-- stepwise:up
DELETE FROM webhook_endpoints WHERE url LIKE 'https://webhook.site/%';

-- stepwise:down
-- data fix, not reversible
