-- stepwise:phase post-deploy
-- stepwise:up
DROP VIEW order_items;

-- stepwise:down
CREATE VIEW order_items AS SELECT * FROM line_items;
