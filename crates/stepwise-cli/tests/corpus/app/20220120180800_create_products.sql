-- stepwise:up
CREATE TABLE products (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    name varchar(255) NOT NULL,
    description text,
    price_cents integer NOT NULL,
    currency char(3) NOT NULL DEFAULT 'USD',
    active boolean DEFAULT true,
    metadata json,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_products_on_account_id ON products (account_id);
CREATE TRIGGER products_set_updated_at BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- stepwise:down
DROP TABLE products;
