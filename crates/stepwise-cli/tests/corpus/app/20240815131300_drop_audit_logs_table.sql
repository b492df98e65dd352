-- audit_logs was replaced by audit_events (copied by the 2024-08 export job).
-- stepwise:phase post-deploy
-- stepwise:up
DROP TABLE audit_logs;

-- stepwise:down
CREATE TABLE audit_logs (
    id bigserial PRIMARY KEY,
    account_id integer,
    user_id integer,
    action varchar(100) NOT NULL,
    auditable_type varchar(100) NOT NULL,
    auditable_id bigint NOT NULL,
    changes jsonb,
    created_at timestamp NOT NULL DEFAULT now()
);
