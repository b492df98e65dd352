-- stepwise:up
CREATE TYPE payment_status AS ENUM ('pending', 'authorized', 'captured', 'failed', 'refunded');

CREATE TABLE payments (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    provider varchar(50) NOT NULL,
    provider_reference varchar(255),
    amount_cents bigint NOT NULL,
    currency char(3) NOT NULL,
    status payment_status NOT NULL DEFAULT 'pending',
    raw_response json,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_payments_on_order_id ON payments (order_id);
CREATE TRIGGER payments_set_updated_at BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- stepwise:down
DROP TABLE payments;
DROP TYPE payment_status;
