-- stepwise:up
ALTER TABLE shipments ADD COLUMN cost_cents bigint;

-- stepwise:down
ALTER TABLE shipments DROP COLUMN cost_cents;
