-- stepwise:up
CREATE TABLE stock_movements (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id bigint NOT NULL REFERENCES warehouses (id),
    product_variant_id bigint NOT NULL REFERENCES product_variants (id),
    quantity integer NOT NULL,
    reason text NOT NULL CHECK (reason IN ('receipt', 'sale', 'return', 'adjustment', 'transfer')),
    reference_type text,
    reference_id bigint,
    created_by_id bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stock_movements_variant_created_at_idx ON stock_movements (product_variant_id, created_at);

-- stepwise:down
DROP TABLE stock_movements;
