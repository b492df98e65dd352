-- stepwise:up
CREATE TABLE loyalty_accounts (
    customer_id bigint PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    points_balance bigint NOT NULL DEFAULT 0,
    tier text NOT NULL DEFAULT 'bronze',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE loyalty_transactions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES loyalty_accounts (customer_id) ON DELETE CASCADE,
    points bigint NOT NULL,
    reason text NOT NULL,
    order_id bigint REFERENCES orders (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX loyalty_transactions_customer_id_created_at_idx ON loyalty_transactions (customer_id, created_at);

-- stepwise:down
DROP TABLE loyalty_transactions;
DROP TABLE loyalty_accounts;
