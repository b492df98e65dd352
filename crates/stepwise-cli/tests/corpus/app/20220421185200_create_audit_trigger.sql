-- stepwise:up
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_row json;
    v_account_id integer;
    v_id bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_row := row_to_json(OLD);
    ELSE
        v_row := row_to_json(NEW);
    END IF;
    v_account_id := (v_row ->> 'account_id')::integer;
    v_id := (v_row ->> 'id')::bigint;
    INSERT INTO audit_logs (account_id, action, auditable_type, auditable_id, changes)
    VALUES (v_account_id, lower(TG_OP), TG_TABLE_NAME, v_id, v_row);
    RETURN NULL;
END;
$$;

CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();

-- stepwise:down
DROP TRIGGER orders_audit ON orders;
DROP FUNCTION audit_row_change();
