-- stepwise:up
ALTER TYPE payment_status ADD VALUE 'disputed';

CREATE OR REPLACE FUNCTION mark_payment_disputed(p_payment_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payments SET status = 'disputed', updated_at = now() WHERE id = p_payment_id;
END;
$$;

-- stepwise:down
DROP FUNCTION mark_payment_disputed(bigint);
