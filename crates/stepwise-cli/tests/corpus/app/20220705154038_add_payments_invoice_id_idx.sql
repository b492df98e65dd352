-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY payments_invoice_id_idx ON payments (invoice_id) WHERE invoice_id IS NOT NULL;

-- stepwise:down
DROP INDEX CONCURRENTLY payments_invoice_id_idx;
