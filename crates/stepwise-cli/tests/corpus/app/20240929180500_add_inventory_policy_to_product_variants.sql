-- stepwise:up
ALTER TABLE product_variants ADD COLUMN inventory_policy text NOT NULL DEFAULT 'deny';

-- stepwise:down
ALTER TABLE product_variants DROP COLUMN inventory_policy;
