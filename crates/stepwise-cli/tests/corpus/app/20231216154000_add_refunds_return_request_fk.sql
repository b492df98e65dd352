-- stepwise:up
ALTER TABLE refunds ADD COLUMN return_request_id bigint;
ALTER TABLE refunds
    ADD CONSTRAINT refunds_return_request_id_fkey
    FOREIGN KEY (return_request_id) REFERENCES return_requests (id) NOT VALID;

-- stepwise:down
ALTER TABLE refunds DROP CONSTRAINT refunds_return_request_id_fkey;
ALTER TABLE refunds DROP COLUMN return_request_id;
