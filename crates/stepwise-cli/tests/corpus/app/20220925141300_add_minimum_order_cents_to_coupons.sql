-- stepwise:up
ALTER TABLE coupons ADD COLUMN minimum_order_cents bigint;

-- stepwise:down
ALTER TABLE coupons DROP COLUMN minimum_order_cents;
