-- stepwise:no-transaction
-- stepwise:up
REINDEX INDEX CONCURRENTLY index_order_items_on_order_id;

-- stepwise:down
-- nothing to undo
