-- stepwise:up
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_row jsonb;
BEGIN
    v_row := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
    INSERT INTO audit_events (account_id, actor_type, actor_id, action, subject_type, subject_id, changes)
    VALUES (
        (v_row ->> 'account_id')::bigint,
        coalesce(current_setting('app.actor_type', true), 'system'),
        nullif(current_setting('app.actor_id', true), '')::bigint,
        lower(TG_OP),
        TG_TABLE_NAME,
        (v_row ->> 'id')::bigint,
        v_row
    );
    RETURN NULL;
END;
$$;

-- stepwise:down
-- previous body in update_audit_trigger_for_jsonb
