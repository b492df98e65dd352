-- stepwise:up
DELETE FROM webhook_deliveries WHERE created_at < now() - interval '90 days';

-- stepwise:down
-- data removed
