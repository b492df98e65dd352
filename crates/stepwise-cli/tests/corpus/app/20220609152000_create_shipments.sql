-- stepwise:up
CREATE TYPE shipment_status AS ENUM ('pending', 'label_created', 'in_transit', 'delivered', 'returned');

CREATE TABLE shipments (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    carrier_id integer REFERENCES carriers (id),
    tracking_number varchar(100),
    status shipment_status NOT NULL DEFAULT 'pending',
    shipped_at timestamptz,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX index_shipments_on_order_id ON shipments (order_id);
CREATE TRIGGER shipments_set_updated_at BEFORE UPDATE ON shipments FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE shipment_items (
    shipment_id bigint NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    order_item_id bigint NOT NULL REFERENCES order_items (id),
    quantity integer NOT NULL,
    PRIMARY KEY (shipment_id, order_item_id)
);

-- stepwise:down
DROP TABLE shipment_items;
DROP TABLE shipments;
DROP TYPE shipment_status;
