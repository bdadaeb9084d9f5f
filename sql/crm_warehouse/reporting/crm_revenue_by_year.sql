-- reporting.crm_revenue_by_year: Revenue per calendar year; a partial year is flagged and not compared (Revenue and Product Performance).
-- The columns are gold.mtr_revenue_by_year's; the view is the stable contract Power BI reads.
SELECT
    year,
    revenue,
    orders,
    units,
    customers,
    aov,
    revenue_per_customer,
    revenue_prior_year,
    revenue_yoy_change,
    revenue_yoy_change_pct,
    is_partial_period,
    as_of_date
FROM gold.mtr_revenue_by_year
