-- +goose Up
ALTER TABLE users ADD COLUMN last_login_at timestamptz;

-- +goose StatementBegin
CREATE FUNCTION touch_last_login() RETURNS trigger AS $$
BEGIN
    NEW.last_login_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION touch_last_login();
ALTER TABLE users DROP COLUMN last_login_at;
