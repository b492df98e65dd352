-- stepwise:up
ALTER TABLE orders ADD COLUMN subscription_id bigint REFERENCES subscriptions (id);

-- stepwise:down
ALTER TABLE orders DROP COLUMN subscription_id;
