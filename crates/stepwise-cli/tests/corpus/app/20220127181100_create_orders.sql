-- stepwise:up
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    customer_id bigint REFERENCES customers (id),
    number varchar(32) NOT NULL,
    status order_status NOT NULL DEFAULT 'pending',
    subtotal_cents bigint NOT NULL DEFAULT 0,
    total_cents bigint NOT NULL DEFAULT 0,
    currency char(3) NOT NULL DEFAULT 'USD',
    placed_at timestamp,
    notes text,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX index_orders_on_account_id_and_number ON orders (account_id, number);
CREATE INDEX index_orders_on_customer_id ON orders (customer_id);
CREATE TRIGGER orders_set_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- stepwise:down
DROP TABLE orders;
