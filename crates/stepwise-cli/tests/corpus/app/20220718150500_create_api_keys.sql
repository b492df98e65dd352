-- stepwise:up
CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name text NOT NULL,
    prefix text NOT NULL,
    token_digest text NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz,
    created_by_id integer REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX api_keys_token_digest_key ON api_keys (token_digest);
CREATE INDEX api_keys_account_id_idx ON api_keys (account_id) WHERE revoked_at IS NULL;

-- stepwise:down
DROP TABLE api_keys;
