-- stepwise:up
ALTER TABLE refunds ADD COLUMN status text NOT NULL DEFAULT 'succeeded';

-- stepwise:down
ALTER TABLE refunds DROP COLUMN status;
