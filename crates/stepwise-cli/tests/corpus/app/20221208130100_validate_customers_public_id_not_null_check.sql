-- stepwise:up
ALTER TABLE customers VALIDATE CONSTRAINT customers_public_id_not_null;

-- stepwise:down
-- nothing to undo
