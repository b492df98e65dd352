-- stepwise:up
CREATE TABLE email_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id integer NOT NULL,
    template_key text NOT NULL,
    to_address citext NOT NULL,
    provider_message_id text,
    status text NOT NULL DEFAULT 'queued',
    opened_at timestamptz,
    bounced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX email_deliveries_account_id_created_at_idx ON email_deliveries (account_id, created_at);
CREATE INDEX email_deliveries_provider_message_id_idx ON email_deliveries (provider_message_id);

-- stepwise:down
DROP TABLE email_deliveries;
