-- stepwise:up
CREATE TABLE order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_cents integer NOT NULL,
    total_cents integer NOT NULL,
    created_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX index_order_items_on_order_id ON order_items (order_id);

-- stepwise:down
DROP TABLE order_items;
