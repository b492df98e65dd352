-- stepwise:up
CREATE INDEX index_orders_on_status ON orders (status);

-- stepwise:down
DROP INDEX index_orders_on_status;
