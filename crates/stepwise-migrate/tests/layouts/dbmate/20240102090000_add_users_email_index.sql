-- migrate:up transaction:false
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY users_email_key;
