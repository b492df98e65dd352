-- stepwise:up
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;

-- stepwise:down
ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;
