-- audit_events replaces audit_logs: partitioned by half-year, bigint everywhere.
-- stepwise:up
CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    account_id bigint NOT NULL,
    actor_type text NOT NULL,
    actor_id bigint,
    action text NOT NULL,
    subject_type text NOT NULL,
    subject_id bigint NOT NULL,
    changes jsonb NOT NULL DEFAULT '{}',
    ip inet,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id, created_at);
CREATE INDEX audit_events_account_id_created_at_idx ON audit_events (account_id, created_at);

CREATE TABLE audit_events_2024_h2 PARTITION OF audit_events FOR VALUES FROM ('2024-07-01') TO ('2025-01-01');
CREATE TABLE audit_events_2025_h1 PARTITION OF audit_events FOR VALUES FROM ('2025-01-01') TO ('2025-07-01');
CREATE TABLE audit_events_2025_h2 PARTITION OF audit_events FOR VALUES FROM ('2025-07-01') TO ('2026-01-01');

-- stepwise:down
DROP TABLE audit_events;
