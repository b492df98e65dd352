-- stepwise:up
ALTER TABLE payments ADD COLUMN payment_method_type varchar(50);

-- stepwise:down
ALTER TABLE payments DROP COLUMN payment_method_type;
