-- stepwise:up
ALTER TABLE users ADD COLUMN mfa_secret_ciphertext bytea;
ALTER TABLE users ADD COLUMN mfa_enabled_at timestamptz;
ALTER TABLE users ADD COLUMN mfa_recovery_codes text[];

-- stepwise:down
ALTER TABLE users DROP COLUMN mfa_recovery_codes;
ALTER TABLE users DROP COLUMN mfa_enabled_at;
ALTER TABLE users DROP COLUMN mfa_secret_ciphertext;
