-- stepwise:up
ALTER TABLE accounts ADD COLUMN vat_number text;

-- stepwise:down
ALTER TABLE accounts DROP COLUMN vat_number;
