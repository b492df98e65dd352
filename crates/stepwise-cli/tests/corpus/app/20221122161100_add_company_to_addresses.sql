-- stepwise:up
ALTER TABLE addresses ADD COLUMN company text;

-- stepwise:down
ALTER TABLE addresses DROP COLUMN company;
