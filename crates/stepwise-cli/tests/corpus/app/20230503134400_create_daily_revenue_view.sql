-- stepwise:up
CREATE MATERIALIZED VIEW daily_revenue AS
SELECT o.account_id,
       date_trunc('day', o.placed_at) AS day,
       o.currency,
       count(*) AS orders,
       sum(o.total_cents) AS revenue_cents
FROM orders o
WHERE o.status IN ('paid', 'fulfilled')
GROUP BY 1, 2, 3
WITH NO DATA;

CREATE UNIQUE INDEX daily_revenue_key ON daily_revenue (account_id, day, currency);

-- stepwise:down
DROP MATERIALIZED VIEW daily_revenue;
