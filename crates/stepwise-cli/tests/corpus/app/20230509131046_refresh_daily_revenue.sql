-- stepwise:up
REFRESH MATERIALIZED VIEW daily_revenue;

-- stepwise:down
-- nothing to undo
