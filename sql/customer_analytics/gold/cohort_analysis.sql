-- gold.cohort_analysis: customers grouped by the month of their first purchase (the cohort), and
-- for each month since (0 = the cohort's own month, up to the as-of date's month): the customers
-- with a purchase that month (active), retention = active / cohort size × 100 (month 0 is 100 %
-- by construction), revenue (the cohort's approved spend that month, net of refunds) and revenue
-- per customer (revenue / cohort size). The as-of date's month is flagged partial unless the
-- as-of date is its last day.
-- Refresh: full.

DELETE FROM gold.cohort_analysis;

WITH
as_of AS (
    SELECT as_of_date, {{ month_start(as_of_date) }} AS as_of_month FROM silver.customer_as_of
),

cohorts AS (
    SELECT customer_id, MIN(month_start) AS cohort_month
    FROM silver.customer_monthly
    WHERE purchases > 0
    GROUP BY customer_id
),

cohort_sizes AS (
    SELECT cohort_month, COUNT(*) AS cohort_customers FROM cohorts GROUP BY cohort_month
),

months AS (
    SELECT DISTINCT d.month_start
    FROM gold.dim_date d
    CROSS JOIN as_of a
    WHERE d.month_start <= a.as_of_month
),

grid AS (
    SELECT s.cohort_month, s.cohort_customers, m.month_start, {{ months_between(s.cohort_month, m.month_start) }} AS months_since_first
    FROM cohort_sizes s
    JOIN months m ON m.month_start >= s.cohort_month
),

activity AS (
    SELECT
        c.cohort_month,
        m.month_start,
        SUM(CASE WHEN m.purchases > 0 THEN 1 ELSE 0 END) AS active_customers,
        SUM(m.spend) AS revenue
    FROM cohorts c
    JOIN silver.customer_monthly m ON m.customer_id = c.customer_id
    GROUP BY c.cohort_month, m.month_start
)

INSERT INTO gold.cohort_analysis (
    cohort_month, months_since_first, month_start, as_of_date, cohort_customers, active_customers,
    retention_pct, revenue, revenue_per_customer, is_partial_period
)
SELECT
    g.cohort_month,
    g.months_since_first,
    g.month_start,
    a.as_of_date,
    g.cohort_customers,
    COALESCE(x.active_customers, 0) AS active_customers,
    CAST({{ round_to(100 * safe_divide(COALESCE(x.active_customers, 0), g.cohort_customers), 2) }} AS DECIMAL(5, 2)) AS retention_pct,
    COALESCE(x.revenue, 0) AS revenue,
    CAST({{ round_to(safe_divide(COALESCE(x.revenue, 0), g.cohort_customers), 2) }} AS DECIMAL(18, 2)) AS revenue_per_customer,
    CASE WHEN g.month_start = a.as_of_month AND {{ month_start(add_days(a.as_of_date, 1)) }} <> {{ add_days(a.as_of_date, 1) }} THEN 1 ELSE 0 END AS is_partial_period
FROM grid g
CROSS JOIN as_of a
LEFT JOIN activity x
    ON x.cohort_month = g.cohort_month
   AND x.month_start = g.month_start;
