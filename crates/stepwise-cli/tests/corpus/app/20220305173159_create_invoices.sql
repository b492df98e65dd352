-- stepwise:up
CREATE TYPE invoice_status AS ENUM ('draft', 'open', 'paid', 'void');

CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    order_id bigint REFERENCES orders (id),
    number varchar(32) NOT NULL,
    status invoice_status NOT NULL DEFAULT 'draft',
    total_cents bigint NOT NULL,
    currency char(3) NOT NULL DEFAULT 'USD',
    issued_at timestamp,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_invoices_on_account_id ON invoices (account_id);
CREATE INDEX index_invoices_on_order_id ON invoices (order_id);
CREATE TRIGGER invoices_set_updated_at BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- stepwise:down
DROP TABLE invoices;
DROP TYPE invoice_status;
