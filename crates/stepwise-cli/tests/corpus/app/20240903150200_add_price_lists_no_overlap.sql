-- stepwise:up
ALTER TABLE price_lists ADD COLUMN valid_during daterange;
ALTER TABLE price_lists
    ADD CONSTRAINT price_lists_no_overlap EXCLUDE USING gist (account_id WITH =, currency WITH =, valid_during WITH &&);

-- stepwise:down
ALTER TABLE price_lists DROP CONSTRAINT price_lists_no_overlap;
ALTER TABLE price_lists DROP COLUMN valid_during;
