-- stepwise:up
CREATE TYPE job_status AS ENUM ('queued', 'running', 'succeeded', 'failed');

CREATE TABLE exports (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts (id),
    requested_by_id integer REFERENCES users (id),
    kind varchar(50) NOT NULL,
    filters json,
    status job_status NOT NULL DEFAULT 'queued',
    file_url text,
    error text,
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX index_exports_on_account_id ON exports (account_id);

-- stepwise:down
DROP TABLE exports;
DROP TYPE job_status;
