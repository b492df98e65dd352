-- stepwise:up
-- stepwise:ignore no-data-change-in-migration feature_flags has a few dozen rows
UPDATE feature_flags SET description = key WHERE description IS NULL;
-- stepwise:ignore set-not-null feature_flags has a few dozen rows; the scan takes microseconds
ALTER TABLE feature_flags ALTER COLUMN description SET NOT NULL;

-- stepwise:down
ALTER TABLE feature_flags ALTER COLUMN description DROP NOT NULL;
