-- stepwise:up
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'fulfilled', 'cancelled');

-- stepwise:down
DROP TYPE order_status;
