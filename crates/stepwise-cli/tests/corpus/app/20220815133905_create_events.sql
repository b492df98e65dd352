-- Product analytics events. Partitioned by month; partitions are created a quarter ahead.
-- stepwise:up
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    account_id bigint NOT NULL,
    name text NOT NULL,
    properties jsonb NOT NULL DEFAULT '{}',
    user_id bigint,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX events_account_id_occurred_at_idx ON events (account_id, occurred_at);

-- stepwise:down
DROP TABLE events;
