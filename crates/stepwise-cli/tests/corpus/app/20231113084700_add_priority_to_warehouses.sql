-- stepwise:up
ALTER TABLE warehouses ADD COLUMN priority integer NOT NULL DEFAULT 0;

-- stepwise:down
ALTER TABLE warehouses DROP COLUMN priority;
