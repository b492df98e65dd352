-- stepwise:up
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_row jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_row := to_jsonb(OLD);
    ELSE
        v_row := to_jsonb(NEW);
    END IF;
    INSERT INTO audit_logs (account_id, action, auditable_type, auditable_id, changes)
    VALUES ((v_row ->> 'account_id')::integer, lower(TG_OP), TG_TABLE_NAME, (v_row ->> 'id')::bigint, v_row);
    RETURN NULL;
END;
$$;

-- stepwise:down
-- the previous body is in 'create_audit_trigger'
