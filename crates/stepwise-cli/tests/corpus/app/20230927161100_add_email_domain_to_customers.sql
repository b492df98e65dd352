-- stepwise:up
ALTER TABLE customers ADD COLUMN email_domain text GENERATED ALWAYS AS (lower(split_part(email, '@', 2))) STORED;

-- stepwise:down
ALTER TABLE customers DROP COLUMN email_domain;
