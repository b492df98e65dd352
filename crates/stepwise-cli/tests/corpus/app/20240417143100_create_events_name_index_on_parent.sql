-- stepwise:up
CREATE INDEX events_name_occurred_at_idx ON ONLY events (name, occurred_at);

-- stepwise:down
DROP INDEX events_name_occurred_at_idx;
