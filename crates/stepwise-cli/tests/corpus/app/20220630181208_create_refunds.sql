-- stepwise:up
CREATE TABLE refunds (
    id bigserial PRIMARY KEY,
    payment_id bigint NOT NULL REFERENCES payments (id),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    reason varchar(255),
    provider_reference varchar(255),
    created_by_id integer REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX index_refunds_on_payment_id ON refunds (payment_id);
CREATE TRIGGER refunds_set_updated_at BEFORE UPDATE ON refunds FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- stepwise:down
DROP TABLE refunds;
