-- stepwise:up
alter table products add column weight_grams integer;
alter table products add column dimensions jsonb;

-- stepwise:down
alter table products drop column dimensions;
alter table products drop column weight_grams;
