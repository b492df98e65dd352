-- Replaced by the partial index on open orders.
-- stepwise:up
DROP INDEX index_orders_on_status;

-- stepwise:down
CREATE INDEX index_orders_on_status ON orders (status);
