-- stepwise:up
CREATE VIEW order_summaries AS
SELECT o.id,
       o.account_id,
       o.number,
       o.status,
       o.total_cents,
       o.currency,
       o.placed_at,
       c.email AS customer_email,
       count(i.id) AS item_count
FROM orders o
LEFT JOIN customers c ON c.id = o.customer_id
LEFT JOIN order_items i ON i.order_id = o.id
GROUP BY o.id, c.email;

-- stepwise:down
DROP VIEW order_summaries;
