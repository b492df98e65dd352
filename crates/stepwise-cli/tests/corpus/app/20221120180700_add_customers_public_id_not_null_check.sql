-- stepwise:up
ALTER TABLE customers ADD CONSTRAINT customers_public_id_not_null CHECK (public_id IS NOT NULL) NOT VALID;

-- stepwise:down
ALTER TABLE customers DROP CONSTRAINT customers_public_id_not_null;
