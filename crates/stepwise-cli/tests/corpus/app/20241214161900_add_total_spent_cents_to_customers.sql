-- stepwise:up
ALTER TABLE customers ADD COLUMN total_spent_cents bigint NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE customers DROP COLUMN total_spent_cents;
