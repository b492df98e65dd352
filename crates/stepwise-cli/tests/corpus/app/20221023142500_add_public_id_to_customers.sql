-- Public ids for customers. New rows get one from the default; existing rows are backfilled with `stepwise backfill`.
-- stepwise:up
ALTER TABLE customers ADD COLUMN public_id uuid;
ALTER TABLE customers ALTER COLUMN public_id SET DEFAULT gen_random_uuid();

-- stepwise:down
ALTER TABLE customers DROP COLUMN public_id;
