-- Notes moved to order_comments.
-- stepwise:up
ALTER TABLE orders DROP COLUMN notes;

-- stepwise:down
ALTER TABLE orders ADD COLUMN notes text;
