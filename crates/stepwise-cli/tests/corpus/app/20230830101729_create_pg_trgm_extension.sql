-- stepwise:up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- stepwise:down
DROP EXTENSION IF EXISTS pg_trgm;
