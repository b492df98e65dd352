-- stepwise:up
ALTER TABLE payments ADD COLUMN card_last4 char(4);

-- stepwise:down
ALTER TABLE payments DROP COLUMN card_last4;
