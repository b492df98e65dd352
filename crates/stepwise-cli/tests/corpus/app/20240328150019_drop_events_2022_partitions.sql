-- stepwise:up
-- stepwise:ignore drop-table detached partitions, archived to s3://shop-archive/events/2022/
DROP TABLE events_2022_10;
-- stepwise:ignore drop-table detached partitions, archived to s3://shop-archive/events/2022/
DROP TABLE events_2022_11;
-- stepwise:ignore drop-table detached partitions, archived to s3://shop-archive/events/2022/
DROP TABLE events_2022_12;

-- stepwise:down
-- archived; restore from S3 if needed
