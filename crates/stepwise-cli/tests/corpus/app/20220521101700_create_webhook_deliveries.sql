-- stepwise:up
CREATE TABLE webhook_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    response_status integer,
    response_body text,
    attempt integer NOT NULL DEFAULT 1,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_deliveries_endpoint_id_created_at_idx ON webhook_deliveries (webhook_endpoint_id, created_at DESC);

-- stepwise:down
DROP TABLE webhook_deliveries;
