-- stepwise:up
ALTER TABLE users ALTER COLUMN email TYPE text;
ALTER TABLE users ALTER COLUMN first_name TYPE text;
ALTER TABLE users ALTER COLUMN last_name TYPE text;

-- stepwise:down
ALTER TABLE users ALTER COLUMN last_name TYPE varchar(255);
ALTER TABLE users ALTER COLUMN first_name TYPE varchar(255);
ALTER TABLE users ALTER COLUMN email TYPE varchar(255);
