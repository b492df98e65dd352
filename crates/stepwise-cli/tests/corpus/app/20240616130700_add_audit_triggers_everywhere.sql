-- stepwise:up
CREATE TRIGGER customers_audit AFTER INSERT OR UPDATE OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER products_audit AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER refunds_audit AFTER INSERT OR UPDATE OR DELETE ON refunds
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER subscriptions_audit AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION audit_row_change();

-- stepwise:down
DROP TRIGGER subscriptions_audit ON subscriptions;
DROP TRIGGER refunds_audit ON refunds;
DROP TRIGGER products_audit ON products;
DROP TRIGGER customers_audit ON customers;
