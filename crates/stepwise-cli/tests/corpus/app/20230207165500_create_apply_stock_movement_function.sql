-- stepwise:up
CREATE OR REPLACE FUNCTION apply_stock_movement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_levels AS il (warehouse_id, product_variant_id, on_hand)
    VALUES (NEW.warehouse_id, NEW.product_variant_id, NEW.quantity)
    ON CONFLICT (warehouse_id, product_variant_id)
    DO UPDATE SET on_hand = il.on_hand + EXCLUDED.on_hand, updated_at = now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION apply_stock_movement();

-- stepwise:down
DROP TRIGGER stock_movements_apply ON stock_movements;
DROP FUNCTION apply_stock_movement();
