-- stepwise:up
ALTER TABLE accounts ADD COLUMN billing_email text;

-- stepwise:down
ALTER TABLE accounts DROP COLUMN billing_email;
