-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY order_discounts_created_at_idx ON order_discounts (created_at);

-- stepwise:down
DROP INDEX CONCURRENTLY order_discounts_created_at_idx;
