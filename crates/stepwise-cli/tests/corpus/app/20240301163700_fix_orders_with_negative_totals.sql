-- stepwise:up
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, subtotal_cents, tax_cents FROM orders WHERE total_cents < 0 LOOP
        UPDATE orders SET total_cents = r.subtotal_cents + r.tax_cents WHERE id = r.id;
    END LOOP;
END
$$;

-- stepwise:down
-- data fix, not reversible
