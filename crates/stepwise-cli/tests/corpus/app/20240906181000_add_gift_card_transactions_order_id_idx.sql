-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY gift_card_transactions_order_id_idx ON gift_card_transactions (order_id);

-- stepwise:down
DROP INDEX CONCURRENTLY gift_card_transactions_order_id_idx;
