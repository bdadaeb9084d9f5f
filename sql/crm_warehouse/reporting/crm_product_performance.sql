-- reporting.crm_product_performance: Revenue, units, margin, rank and concentration per product and its category (Revenue and Product Performance).
-- The columns are gold.mtr_product_performance's; the view is the stable contract Power BI reads.
SELECT
    product_key,
    product_id,
    product_name,
    category,
    revenue,
    units,
    orders,
    cost,
    margin,
    margin_pct,
    revenue_rank,
    revenue_share,
    cumulative_share,
    category_revenue,
    category_share,
    category_rank,
    category_cumulative_share,
    share_of_category
FROM gold.mtr_product_performance
