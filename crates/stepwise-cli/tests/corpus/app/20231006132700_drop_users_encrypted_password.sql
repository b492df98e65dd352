-- Passwords live in identities since the SSO release; the app stopped reading this column in v2023.41.
-- stepwise:phase post-deploy
-- stepwise:up
ALTER TABLE users DROP COLUMN encrypted_password;

-- stepwise:down
ALTER TABLE users ADD COLUMN encrypted_password varchar(255);
