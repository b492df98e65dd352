-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY invoices_due_at_open_idx ON invoices (due_at) WHERE status = 'open';

-- stepwise:down
DROP INDEX CONCURRENTLY invoices_due_at_open_idx;
