-- stepwise:no-transaction
-- stepwise:up
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';
UPDATE orders SET status = 'refunded'
WHERE status = 'paid'
  AND id IN (SELECT p.order_id FROM payments p WHERE p.status = 'refunded');

-- stepwise:down
-- enum values cannot be removed
