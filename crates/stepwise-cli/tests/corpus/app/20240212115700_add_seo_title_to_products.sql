-- stepwise:up
ALTER TABLE products ADD COLUMN seo_title text;

-- stepwise:down
ALTER TABLE products DROP COLUMN seo_title;
