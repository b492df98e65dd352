-- stepwise:up
alter table orders add column gift_message text;
alter table orders add column is_gift boolean;

-- stepwise:down
alter table orders drop column is_gift;
alter table orders drop column gift_message;
