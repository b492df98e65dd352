-- stepwise:up
-- stepwise:ignore ban-char ISO 4217 currency codes are exactly three letters; matches orders.currency
ALTER TABLE customers ADD COLUMN preferred_currency char(3);

-- stepwise:down
ALTER TABLE customers DROP COLUMN preferred_currency;
