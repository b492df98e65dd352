-- stepwise:up
ALTER TABLE refunds VALIDATE CONSTRAINT refunds_return_request_id_fkey;

-- stepwise:down
-- nothing to undo
