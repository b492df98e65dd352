-- stepwise:up
CREATE TABLE sessions (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token varchar(255) NOT NULL,
    ip inet,
    user_agent text,
    expires_at timestamp NOT NULL,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX index_sessions_on_token ON sessions (token);
CREATE INDEX index_sessions_on_user_id ON sessions (user_id);

-- stepwise:down
DROP TABLE sessions;
