-- stepwise:up
CREATE INDEX invoices_sent_at_idx ON invoices (account_id, sent_at);

-- stepwise:down
DROP INDEX invoices_sent_at_idx;
