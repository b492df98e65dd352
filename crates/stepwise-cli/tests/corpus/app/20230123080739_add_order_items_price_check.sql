-- stepwise:up
ALTER TABLE order_items ADD CONSTRAINT order_items_unit_price_nonnegative CHECK (unit_price_cents >= 0);

-- stepwise:down
ALTER TABLE order_items DROP CONSTRAINT order_items_unit_price_nonnegative;
