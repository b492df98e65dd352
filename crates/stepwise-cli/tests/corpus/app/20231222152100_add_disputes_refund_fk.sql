-- stepwise:up
ALTER TABLE disputes ADD COLUMN refund_id bigint;
ALTER TABLE disputes ADD CONSTRAINT disputes_refund_id_fkey FOREIGN KEY (refund_id) REFERENCES refunds (id) NOT VALID;
ALTER TABLE disputes VALIDATE CONSTRAINT disputes_refund_id_fkey;

-- stepwise:down
ALTER TABLE disputes DROP CONSTRAINT disputes_refund_id_fkey;
ALTER TABLE disputes DROP COLUMN refund_id;
