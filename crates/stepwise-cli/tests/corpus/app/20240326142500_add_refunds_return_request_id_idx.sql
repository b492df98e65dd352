-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY refunds_return_request_id_idx ON refunds (return_request_id);

-- stepwise:down
DROP INDEX CONCURRENTLY refunds_return_request_id_idx;
