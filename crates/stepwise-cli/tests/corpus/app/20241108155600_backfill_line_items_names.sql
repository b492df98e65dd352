-- stepwise:up
UPDATE line_items li
SET name = p.name, sku = p.sku
FROM products p
WHERE p.id = li.product_id AND li.name IS NULL;

-- stepwise:down
-- data fix, not reversible
