-- stepwise:up
ALTER TABLE gift_cards ADD COLUMN note text;

-- stepwise:down
ALTER TABLE gift_cards DROP COLUMN note;
