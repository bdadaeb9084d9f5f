-- gold.mtr_revenue_by_month: revenue per calendar month of ordering, every month from the first
-- order's to the CRM's as-of month (a month without orders is a row of zeros).
--   revenue, orders, units  the orders that count as revenue (a line not cancelled or returned)
--   customers               distinct accounts with such an order
--   aov                     revenue / orders; revenue_per_customer: revenue / customers
--   revenue_prior_year      the same month a year before
--   revenue_yoy_change(_pct) against it; NULL when either month is partial (not compared)
--   is_partial_period       the data does not cover the whole month: it starts before the first
--                           order's day, or ends after the as-of date
-- Refresh: full (an aggregate of gold.fact_orders).

DELETE FROM gold.mtr_revenue_by_month;

WITH
digits AS (
    SELECT n FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS d (n)
),

numbers AS (
    SELECT a.n + 10 * b.n + 100 * c.n + 1000 * d.n AS n
    FROM digits a CROSS JOIN digits b CROSS JOIN digits c CROSS JOIN digits d
),

orders AS (
    SELECT
        {{ month_start(CAST(ordered_at AS DATE)) }} AS month_start,
        account_id,
        revenue,
        units
    FROM gold.fact_orders
    WHERE counts_as_revenue = 1
),

coverage AS (
    SELECT MIN(CAST(o.ordered_at AS DATE)) AS first_date, MAX(x.as_of_date) AS as_of_date
    FROM gold.fact_orders o
    CROSS JOIN silver.crm_as_of x
),

months AS (
    SELECT
        {{ add_months(month_start(c.first_date), n.n) }} AS month_start,
        c.first_date,
        c.as_of_date
    FROM coverage c
    JOIN numbers n ON n.n <= {{ months_between(c.first_date, c.as_of_date) }}
),

monthly AS (
    SELECT
        m.month_start,
        m.first_date,
        m.as_of_date,
        COALESCE(SUM(o.revenue), 0) AS revenue,
        COUNT(o.month_start) AS orders,
        COALESCE(SUM(CAST(o.units AS BIGINT)), 0) AS units, -- INT sums overflow at 2^31 on T-SQL
        COUNT(DISTINCT o.account_id) AS customers,
        CASE
            WHEN m.month_start < m.first_date OR {{ add_days(add_months(m.month_start, 1), -1) }} > m.as_of_date THEN 1
            ELSE 0
        END AS is_partial
    FROM months m
    LEFT JOIN orders o ON o.month_start = m.month_start
    GROUP BY m.month_start, m.first_date, m.as_of_date
)

INSERT INTO gold.mtr_revenue_by_month (
    month_start, year, month, revenue, orders, units, customers, aov, revenue_per_customer,
    revenue_prior_year, revenue_yoy_change, revenue_yoy_change_pct, is_partial_period, as_of_date
)
SELECT
    cur.month_start,
    {{ date_part('year', cur.month_start) }} AS year,
    {{ date_part('month', cur.month_start) }} AS month,
    CAST(cur.revenue AS DECIMAL(24, 2)) AS revenue,
    CAST(cur.orders AS INT) AS orders,
    CAST(cur.units AS BIGINT) AS units,
    CAST(cur.customers AS INT) AS customers,
    CAST({{ round_to(safe_divide(cur.revenue, cur.orders), 2) }} AS DECIMAL(18, 2)) AS aov,
    CAST({{ round_to(safe_divide(cur.revenue, cur.customers), 2) }} AS DECIMAL(18, 2)) AS revenue_per_customer,
    CAST(prior.revenue AS DECIMAL(24, 2)) AS revenue_prior_year,
    CASE WHEN cur.is_partial = 0 AND prior.is_partial = 0 THEN CAST(cur.revenue - prior.revenue AS DECIMAL(24, 2)) END AS revenue_yoy_change,
    CASE WHEN cur.is_partial = 0 AND prior.is_partial = 0 THEN CAST({{ round_to(safe_divide(cur.revenue - prior.revenue, prior.revenue), 4) }} AS DECIMAL(18, 4)) END AS revenue_yoy_change_pct,
    cur.is_partial AS is_partial_period,
    cur.as_of_date
FROM monthly cur
LEFT JOIN monthly prior ON prior.month_start = {{ add_months(cur.month_start, -12) }};
