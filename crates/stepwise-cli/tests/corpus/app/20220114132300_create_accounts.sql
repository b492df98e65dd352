-- stepwise:up
CREATE TABLE accounts (
    id serial PRIMARY KEY,
    name varchar(255) NOT NULL,
    subdomain varchar(255) NOT NULL,
    plan varchar(50) NOT NULL DEFAULT 'free',
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX index_accounts_on_subdomain ON accounts (subdomain);

-- stepwise:down
DROP TABLE accounts;
