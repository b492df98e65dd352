-- stepwise:up
UPDATE orders SET placed_at = created_at WHERE placed_at IS NULL AND status <> 'pending';

-- stepwise:down
-- data fix, not reversible
