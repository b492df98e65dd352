-- Public ids for the storefront API: never expose sequential ids.
-- stepwise:up
ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX index_orders_on_public_id ON orders (public_id);

-- stepwise:down
DROP INDEX index_orders_on_public_id;
ALTER TABLE orders DROP COLUMN public_id;
