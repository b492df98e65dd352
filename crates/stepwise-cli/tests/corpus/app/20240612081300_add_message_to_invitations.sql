-- stepwise:up
ALTER TABLE invitations ADD COLUMN message text;

-- stepwise:down
ALTER TABLE invitations DROP COLUMN message;
