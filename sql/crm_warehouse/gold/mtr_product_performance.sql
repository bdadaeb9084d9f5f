-- gold.mtr_product_performance: per product (every product of gold.dim_products, and the unknown
-- product when lines point to it), over all orders that count as revenue:
--   revenue, units, orders, cost, margin, margin_pct  (cost and margin NULL while a line's cost is unknown)
--   revenue_rank                 1 = the most revenue (ties share a rank)
--   revenue_share                of all revenue; cumulative_share: the running share in rank order
--                                (ties in product_id order, the unknown product last): concentration, e.g. "the top 10
--                                products make 80 %"
--   category_revenue, category_share, category_rank, category_cumulative_share  the same for the
--                                product's category (repeated on each of its products)
--   share_of_category            the product's share of its category's revenue
-- Refresh: full (an aggregate of gold.fact_order_lines).

DELETE FROM gold.mtr_product_performance;

WITH
sold AS (
    SELECT
        product_key,
        SUM(revenue) AS revenue,
        SUM(CAST(quantity AS BIGINT)) AS units, -- INT sums overflow at 2^31 on T-SQL
        COUNT(DISTINCT order_id) AS orders,
        CASE WHEN SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END) = 0 THEN SUM(cost) END AS cost
    FROM gold.fact_order_lines
    WHERE counts_as_revenue = 1
    GROUP BY product_key
),

products AS (
    SELECT
        p.product_key,
        p.product_id,
        p.product_name,
        p.category,
        COALESCE(s.revenue, 0) AS revenue,
        COALESCE(s.units, 0) AS units,
        COALESCE(s.orders, 0) AS orders,
        CASE WHEN s.product_key IS NULL THEN 0 ELSE s.cost END AS cost
    FROM gold.dim_products p
    LEFT JOIN sold s ON s.product_key = p.product_key
    WHERE p.product_key <> -1 OR s.product_key IS NOT NULL
),

categories AS (
    SELECT
        category,
        SUM(revenue) AS category_revenue,
        DENSE_RANK() OVER (ORDER BY SUM(revenue) DESC) AS category_rank,
        SUM(SUM(revenue)) OVER (ORDER BY SUM(revenue) DESC, category ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS category_running
    FROM products
    GROUP BY category
),

ranked AS (
    SELECT
        p.*,
        c.category_revenue,
        c.category_rank,
        c.category_running,
        SUM(p.revenue) OVER () AS total_revenue,
        RANK() OVER (ORDER BY p.revenue DESC) AS revenue_rank,
        -- ties: product_id order, the unknown product (product_id NULL) after the others, on both engines
        SUM(p.revenue) OVER (ORDER BY p.revenue DESC, CASE WHEN p.product_id IS NULL THEN 1 ELSE 0 END, p.product_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_revenue
    FROM products p
    JOIN categories c ON c.category = p.category
)

INSERT INTO gold.mtr_product_performance (
    product_key, product_id, product_name, category, revenue, units, orders, cost, margin, margin_pct,
    revenue_rank, revenue_share, cumulative_share, category_revenue, category_share, category_rank,
    category_cumulative_share, share_of_category
)
SELECT
    product_key,
    product_id,
    product_name,
    category,
    CAST(revenue AS DECIMAL(24, 2)) AS revenue,
    CAST(units AS BIGINT) AS units,
    CAST(orders AS INT) AS orders,
    CAST(cost AS DECIMAL(24, 2)) AS cost,
    CAST(revenue - cost AS DECIMAL(24, 2)) AS margin,
    CASE WHEN ABS({{ round_to(safe_divide(revenue - cost, revenue), 4) }}) < 100000
         THEN CAST({{ round_to(safe_divide(revenue - cost, revenue), 4) }} AS DECIMAL(9, 4)) END AS margin_pct, -- NULL when it does not fit (as stg_crm_products)
    CAST(revenue_rank AS INT) AS revenue_rank,
    CAST({{ round_to(safe_divide(revenue, total_revenue), 6) }} AS DECIMAL(9, 6)) AS revenue_share,
    CAST({{ round_to(safe_divide(running_revenue, total_revenue), 6) }} AS DECIMAL(9, 6)) AS cumulative_share,
    CAST(category_revenue AS DECIMAL(24, 2)) AS category_revenue,
    CAST({{ round_to(safe_divide(category_revenue, total_revenue), 6) }} AS DECIMAL(9, 6)) AS category_share,
    CAST(category_rank AS INT) AS category_rank,
    CAST({{ round_to(safe_divide(category_running, total_revenue), 6) }} AS DECIMAL(9, 6)) AS category_cumulative_share,
    CAST({{ round_to(safe_divide(revenue, category_revenue), 6) }} AS DECIMAL(9, 6)) AS share_of_category
FROM ranked;
