-- stepwise:up
CREATE TABLE audit_logs (
    id bigserial PRIMARY KEY,
    account_id integer REFERENCES accounts (id),
    user_id integer REFERENCES users (id),
    action varchar(100) NOT NULL,
    auditable_type varchar(100) NOT NULL,
    auditable_id bigint NOT NULL,
    changes json,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_audit_logs_on_auditable ON audit_logs (auditable_type, auditable_id);
CREATE INDEX index_audit_logs_on_account_id_and_created_at ON audit_logs (account_id, created_at);

-- stepwise:down
DROP TABLE audit_logs;
