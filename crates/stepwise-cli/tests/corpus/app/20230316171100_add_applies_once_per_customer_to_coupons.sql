-- stepwise:up
ALTER TABLE coupons ADD COLUMN applies_once_per_customer boolean NOT NULL DEFAULT false;

-- stepwise:down
ALTER TABLE coupons DROP COLUMN applies_once_per_customer;
