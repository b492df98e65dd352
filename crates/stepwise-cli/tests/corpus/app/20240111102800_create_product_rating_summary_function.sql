-- stepwise:up
CREATE OR REPLACE FUNCTION product_rating(p_product_id bigint)
RETURNS TABLE (average numeric, count bigint)
LANGUAGE sql STABLE AS $$
    SELECT round(avg(rating)::numeric, 2), count(*)
    FROM reviews
    WHERE product_id = p_product_id AND status = 'published'
$$;

-- stepwise:down
DROP FUNCTION product_rating(bigint);
