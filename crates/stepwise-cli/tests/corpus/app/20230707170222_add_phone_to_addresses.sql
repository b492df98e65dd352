-- stepwise:up
ALTER TABLE addresses ADD COLUMN phone varchar(32);

-- stepwise:down
ALTER TABLE addresses DROP COLUMN phone;
