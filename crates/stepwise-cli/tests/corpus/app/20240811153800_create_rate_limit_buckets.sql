-- Unlogged on purpose: losing buckets on a crash is fine.
-- stepwise:up
CREATE UNLOGGED TABLE rate_limit_buckets (
    key text PRIMARY KEY,
    tokens integer NOT NULL,
    refilled_at timestamptz NOT NULL DEFAULT now()
);

-- stepwise:down
DROP TABLE rate_limit_buckets;
