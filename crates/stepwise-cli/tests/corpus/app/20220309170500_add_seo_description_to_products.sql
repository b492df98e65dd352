-- stepwise:up
ALTER TABLE products ADD COLUMN seo_description text;

-- stepwise:down
ALTER TABLE products DROP COLUMN seo_description;
