-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY reviews_customer_id_idx ON reviews (customer_id);

-- stepwise:down
DROP INDEX CONCURRENTLY reviews_customer_id_idx;
