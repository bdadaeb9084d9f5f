-- gold.metric_mom_spend_change: per customer and calendar month, from the month of its first
-- purchase to the as-of date's month, every month (a month without purchases is a row with spend
-- 0): spend (approved, net of refunds), the previous calendar month's spend (0 when the customer
-- bought nothing that month, and before its first purchase), the change and the change in %
-- (NULL when the previous month's spend is 0). The as-of date's month is flagged partial unless
-- the as-of date is its last day.
-- Refresh: full.

DELETE FROM gold.metric_mom_spend_change;

WITH
as_of AS (
    SELECT as_of_date, {{ month_start(as_of_date) }} AS as_of_month FROM silver.customer_as_of
),

months AS (
    SELECT DISTINCT d.month_start
    FROM gold.dim_date d
    CROSS JOIN as_of a
    WHERE d.month_start <= a.as_of_month
),

first_months AS (
    SELECT customer_id, MIN(month_start) AS first_month
    FROM silver.customer_monthly
    WHERE purchases > 0
    GROUP BY customer_id
),

-- customer × month, dense from its first purchase month
grid AS (
    SELECT f.customer_id, m.month_start
    FROM first_months f
    JOIN months m ON m.month_start >= f.first_month
),

spend AS (
    SELECT
        g.customer_id,
        g.month_start,
        COALESCE(c.spend, 0) AS spend
    FROM grid g
    LEFT JOIN silver.customer_monthly c
        ON c.customer_id = g.customer_id
       AND c.month_start = g.month_start
),

compared AS (
    SELECT
        s.customer_id,
        s.month_start,
        s.spend,
        COALESCE(LAG(s.spend) OVER (PARTITION BY s.customer_id ORDER BY s.month_start), 0) AS previous_month_spend
    FROM spend s
)

INSERT INTO gold.metric_mom_spend_change (
    customer_id, month_start, as_of_date, spend, previous_month_spend, spend_change, spend_change_pct, is_partial_month
)
SELECT
    c.customer_id,
    c.month_start,
    a.as_of_date,
    c.spend,
    c.previous_month_spend,
    c.spend - c.previous_month_spend AS spend_change,
    CASE
        WHEN c.previous_month_spend <> 0
        THEN CAST({{ round_to(100 * safe_divide(c.spend - c.previous_month_spend, c.previous_month_spend), 2) }} AS DECIMAL(18, 2))
    END AS spend_change_pct,
    CASE WHEN c.month_start = a.as_of_month AND {{ month_start(add_days(a.as_of_date, 1)) }} <> {{ add_days(a.as_of_date, 1) }} THEN 1 ELSE 0 END AS is_partial_month
FROM compared c
CROSS JOIN as_of a;
