-- stepwise:up
ALTER TYPE payment_status ADD VALUE IF NOT EXISTS 'partially_refunded' AFTER 'captured';

-- stepwise:down
-- enum values cannot be removed; nothing to undo
