-- stepwise:up
ALTER TABLE password_resets RENAME TO password_reset_tokens;

-- stepwise:down
ALTER TABLE password_reset_tokens RENAME TO password_resets;
