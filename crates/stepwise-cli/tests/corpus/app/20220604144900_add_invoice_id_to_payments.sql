-- stepwise:up
ALTER TABLE payments ADD COLUMN invoice_id bigint;
ALTER TABLE payments ADD CONSTRAINT payments_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES invoices (id);

-- stepwise:down
ALTER TABLE payments DROP CONSTRAINT payments_invoice_id_fkey;
ALTER TABLE payments DROP COLUMN invoice_id;
