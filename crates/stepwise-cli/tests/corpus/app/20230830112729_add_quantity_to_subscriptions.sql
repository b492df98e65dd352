-- stepwise:up
ALTER TABLE subscriptions ADD COLUMN quantity integer NOT NULL DEFAULT 1;

-- stepwise:down
ALTER TABLE subscriptions DROP COLUMN quantity;
