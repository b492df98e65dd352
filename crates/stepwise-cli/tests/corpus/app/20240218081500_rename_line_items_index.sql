-- stepwise:up
ALTER INDEX index_order_items_on_order_id RENAME TO line_items_order_id_idx;

-- stepwise:down
ALTER INDEX line_items_order_id_idx RENAME TO index_order_items_on_order_id;
