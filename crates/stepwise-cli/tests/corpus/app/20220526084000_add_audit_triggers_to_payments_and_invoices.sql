-- stepwise:up
CREATE TRIGGER payments_audit AFTER INSERT OR UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER invoices_audit AFTER INSERT OR UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();

-- stepwise:down
DROP TRIGGER invoices_audit ON invoices;
DROP TRIGGER payments_audit ON payments;
