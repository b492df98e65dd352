-- stepwise:up
ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'en';

-- stepwise:down
ALTER TABLE users DROP COLUMN locale;
