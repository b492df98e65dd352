-- stepwise:up
ALTER TABLE categories ADD COLUMN description text;

-- stepwise:down
ALTER TABLE categories DROP COLUMN description;
