-- stepwise:up
CREATE SEQUENCE invoice_number_seq START 1000;

CREATE FUNCTION next_invoice_number() RETURNS text
LANGUAGE sql AS $$
    SELECT 'INV-' || lpad(nextval('invoice_number_seq')::text, 8, '0')
$$;

ALTER TABLE invoices ALTER COLUMN number SET DEFAULT next_invoice_number();

-- stepwise:down
ALTER TABLE invoices ALTER COLUMN number DROP DEFAULT;
DROP FUNCTION next_invoice_number();
DROP SEQUENCE invoice_number_seq;
