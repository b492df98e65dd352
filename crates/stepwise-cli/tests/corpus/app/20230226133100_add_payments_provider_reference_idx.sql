-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY payments_provider_reference_idx ON payments (provider, provider_reference);

-- stepwise:down
DROP INDEX CONCURRENTLY payments_provider_reference_idx;
