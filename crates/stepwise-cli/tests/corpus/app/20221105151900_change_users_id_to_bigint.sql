-- users.id is at 61% of int4; move to bigint before it overflows.
-- stepwise:up
ALTER TABLE users ALTER COLUMN id TYPE bigint;

-- stepwise:down
ALTER TABLE users ALTER COLUMN id TYPE integer;
