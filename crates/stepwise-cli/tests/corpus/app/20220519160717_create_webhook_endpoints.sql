-- Outgoing webhooks: one endpoint per URL per account.
-- stepwise:up
CREATE TABLE webhook_endpoints (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL,
    url text NOT NULL,
    secret text NOT NULL DEFAULT encode(gen_random_bytes(32), 'hex'),
    events text[] NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_url_https CHECK (url LIKE 'https://%');
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_account_id_url_key UNIQUE (account_id, url);
CREATE INDEX webhook_endpoints_account_id_idx ON webhook_endpoints (account_id);
ALTER TABLE webhook_endpoints ALTER COLUMN url SET NOT NULL;
ALTER TABLE webhook_endpoints ADD COLUMN description text NOT NULL;
ALTER TABLE webhook_endpoints ADD COLUMN api_version text NOT NULL DEFAULT '2022-06-01';

-- stepwise:down
DROP TABLE webhook_endpoints;
