-- Wholesale orders overflow int4 cents.
-- stepwise:up
ALTER TABLE line_items ALTER COLUMN unit_price_cents TYPE bigint;
ALTER TABLE line_items ALTER COLUMN total_cents TYPE bigint;
ALTER TABLE line_items ALTER COLUMN tax_cents TYPE bigint;

-- stepwise:down
ALTER TABLE line_items ALTER COLUMN tax_cents TYPE integer;
ALTER TABLE line_items ALTER COLUMN total_cents TYPE integer;
ALTER TABLE line_items ALTER COLUMN unit_price_cents TYPE integer;
