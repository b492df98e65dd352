-- stepwise:up
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    email varchar(255) NOT NULL,
    name varchar(255),
    phone varchar(32),
    accepts_marketing boolean NOT NULL DEFAULT false,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_customers_on_account_id_and_email ON customers (account_id, email);
CREATE TRIGGER customers_set_updated_at BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- stepwise:down
DROP TABLE customers;
