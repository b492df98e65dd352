-- Soft delete for customers, products and orders (SHOP-412).
-- stepwise:up
ALTER TABLE customers ADD COLUMN deleted_at timestamp;
ALTER TABLE products ADD COLUMN deleted_at timestamp;
ALTER TABLE orders ADD COLUMN deleted_at timestamp;

-- stepwise:down
ALTER TABLE orders DROP COLUMN deleted_at;
ALTER TABLE products DROP COLUMN deleted_at;
ALTER TABLE customers DROP COLUMN deleted_at;
