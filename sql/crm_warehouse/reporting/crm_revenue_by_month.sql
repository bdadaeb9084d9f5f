-- reporting.crm_revenue_by_month: Revenue per calendar month with the change on a year before and the partial-period flag (Revenue and Product Performance).
-- The columns are gold.mtr_revenue_by_month's; the view is the stable contract Power BI reads.
SELECT
    month_start,
    year,
    month,
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
FROM gold.mtr_revenue_by_month
