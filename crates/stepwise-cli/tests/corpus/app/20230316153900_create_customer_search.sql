-- Full-text search on customers (search_v2).
-- stepwise:up
ALTER TABLE customers ADD COLUMN search_vector tsvector;

CREATE OR REPLACE FUNCTION customers_search_vector_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(NEW.email, '')), 'B') ||
        setweight(to_tsvector('simple', coalesce(NEW.phone_number, '')), 'C');
    RETURN NEW;
END;
$$;

CREATE TRIGGER customers_search_vector BEFORE INSERT OR UPDATE OF name, email, phone_number ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_search_vector_update();

-- stepwise:down
DROP TRIGGER customers_search_vector ON customers;
DROP FUNCTION customers_search_vector_update();
ALTER TABLE customers DROP COLUMN search_vector;
