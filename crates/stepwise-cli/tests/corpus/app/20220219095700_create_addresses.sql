-- stepwise:up
CREATE TABLE addresses (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind varchar(20) NOT NULL DEFAULT 'shipping',
    line1 varchar(255) NOT NULL,
    line2 varchar(255),
    city varchar(255) NOT NULL,
    region varchar(255),
    postal_code varchar(20),
    country char(2) NOT NULL,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_addresses_on_customer_id ON addresses (customer_id);

-- stepwise:down
DROP TABLE addresses;
