-- stepwise:up
UPDATE products SET published_at = created_at WHERE active AND published_at IS NULL;

-- stepwise:down
-- data fix, not reversible
