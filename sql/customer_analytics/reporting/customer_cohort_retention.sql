-- reporting.customer_cohort_retention: the cohort heatmap: acquisition month × months since the
-- first purchase, retention % and revenue per customer.
SELECT
    cohort_month, months_since_first, month_start, as_of_date, cohort_customers, active_customers,
    retention_pct, revenue, revenue_per_customer, is_partial_period
FROM gold.cohort_analysis
