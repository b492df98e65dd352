-- stepwise:up
CREATE TABLE invoice_lines (
    id bigserial PRIMARY KEY,
    invoice_id bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    description text NOT NULL,
    quantity integer NOT NULL DEFAULT 1,
    unit_amount_cents bigint NOT NULL,
    amount_cents bigint NOT NULL,
    position integer NOT NULL DEFAULT 0
);

CREATE INDEX index_invoice_lines_on_invoice_id ON invoice_lines (invoice_id);

-- stepwise:down
DROP TABLE invoice_lines;
