-- With TimeZone = UTC, timestamp -> timestamptz is a catalog-only change.
-- stepwise:up
SET LOCAL TimeZone = 'UTC';
ALTER TABLE orders ALTER COLUMN created_at TYPE timestamptz;
ALTER TABLE orders ALTER COLUMN updated_at TYPE timestamptz;

-- stepwise:down
SET LOCAL TimeZone = 'UTC';
ALTER TABLE orders ALTER COLUMN updated_at TYPE timestamp;
ALTER TABLE orders ALTER COLUMN created_at TYPE timestamp;
