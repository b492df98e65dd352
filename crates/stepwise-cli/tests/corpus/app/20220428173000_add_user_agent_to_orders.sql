-- stepwise:up
ALTER TABLE orders ADD COLUMN user_agent text;

-- stepwise:down
ALTER TABLE orders DROP COLUMN user_agent;
