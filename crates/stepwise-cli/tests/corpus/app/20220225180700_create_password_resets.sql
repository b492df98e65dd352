-- stepwise:up
CREATE TABLE password_resets (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token varchar(255) NOT NULL,
    expires_at timestamp NOT NULL,
    used_at timestamp,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX index_password_resets_on_token ON password_resets (token);

-- stepwise:down
DROP TABLE password_resets;
