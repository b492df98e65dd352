-- order_items -> line_items; the view keeps the old code working until the deploy.
-- stepwise:up
ALTER TABLE order_items RENAME TO line_items;
CREATE VIEW order_items AS SELECT * FROM line_items;

-- stepwise:down
DROP VIEW order_items;
ALTER TABLE line_items RENAME TO order_items;
