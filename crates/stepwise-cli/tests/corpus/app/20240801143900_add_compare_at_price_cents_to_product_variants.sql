-- stepwise:up
ALTER TABLE product_variants ADD COLUMN compare_at_price_cents bigint;

-- stepwise:down
ALTER TABLE product_variants DROP COLUMN compare_at_price_cents;
