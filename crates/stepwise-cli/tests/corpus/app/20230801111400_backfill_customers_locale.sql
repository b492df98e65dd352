-- stepwise:up
UPDATE customers SET locale = 'en' WHERE locale IS NULL;

-- stepwise:down
-- data fix, not reversible
