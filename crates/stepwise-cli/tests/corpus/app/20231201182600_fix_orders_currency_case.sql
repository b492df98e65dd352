-- stepwise:up
UPDATE orders SET currency = upper(currency) WHERE currency <> upper(currency);

-- stepwise:down
-- data fix, not reversible
