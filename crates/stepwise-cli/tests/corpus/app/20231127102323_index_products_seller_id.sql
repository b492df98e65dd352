-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY products_seller_id_idx ON products (seller_id) WHERE seller_id IS NOT NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY products_seller_id_idx;
