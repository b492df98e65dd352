-- stepwise:up
ALTER TABLE customers ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE customers DROP CONSTRAINT customers_public_id_not_null;

-- stepwise:down
ALTER TABLE customers ADD CONSTRAINT customers_public_id_not_null CHECK (public_id IS NOT NULL) NOT VALID;
ALTER TABLE customers ALTER COLUMN public_id DROP NOT NULL;
