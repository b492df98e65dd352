-- stepwise:no-transaction
-- stepwise:up
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_01_name_occurred_at_idx ON events_2023_01 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_02_name_occurred_at_idx ON events_2023_02 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_03_name_occurred_at_idx ON events_2023_03 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_04_name_occurred_at_idx ON events_2023_04 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_05_name_occurred_at_idx ON events_2023_05 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_06_name_occurred_at_idx ON events_2023_06 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_07_name_occurred_at_idx ON events_2023_07 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_08_name_occurred_at_idx ON events_2023_08 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_09_name_occurred_at_idx ON events_2023_09 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_10_name_occurred_at_idx ON events_2023_10 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_11_name_occurred_at_idx ON events_2023_11 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2023_12_name_occurred_at_idx ON events_2023_12 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_01_name_occurred_at_idx ON events_2024_01 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_02_name_occurred_at_idx ON events_2024_02 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_03_name_occurred_at_idx ON events_2024_03 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_04_name_occurred_at_idx ON events_2024_04 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_05_name_occurred_at_idx ON events_2024_05 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_06_name_occurred_at_idx ON events_2024_06 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_07_name_occurred_at_idx ON events_2024_07 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_08_name_occurred_at_idx ON events_2024_08 (name, occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_09_name_occurred_at_idx ON events_2024_09 (name, occurred_at);

-- stepwise:down
DROP INDEX CONCURRENTLY IF EXISTS events_2023_01_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_02_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_03_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_04_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_05_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_06_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_07_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_08_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_09_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_10_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_11_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2023_12_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_01_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_02_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_03_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_04_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_05_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_06_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_07_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_08_name_occurred_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS events_2024_09_name_occurred_at_idx;
