-- stepwise:up
REINDEX INDEX index_orders_on_status;

-- stepwise:down
-- nothing to undo
