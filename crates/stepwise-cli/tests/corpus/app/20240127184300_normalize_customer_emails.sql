-- stepwise:up
UPDATE customers SET email = lower(trim(email)) WHERE email <> lower(trim(email));

-- stepwise:down
-- data fix, not reversible
