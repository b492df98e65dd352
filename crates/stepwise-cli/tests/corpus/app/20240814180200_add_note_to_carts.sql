-- stepwise:up
ALTER TABLE carts ADD COLUMN note text;

-- stepwise:down
ALTER TABLE carts DROP COLUMN note;
