-- stepwise:up
CREATE INDEX stock_movements_reference_idx ON stock_movements (reference_type, reference_id);

-- stepwise:down
DROP INDEX stock_movements_reference_idx;
