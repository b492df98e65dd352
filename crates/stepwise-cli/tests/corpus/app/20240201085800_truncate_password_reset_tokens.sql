-- stepwise:up
TRUNCATE password_reset_tokens;

-- stepwise:down
-- data removed
