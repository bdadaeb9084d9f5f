-- gold.mtr_revenue_by_year: revenue per calendar year of ordering, every year from the first
-- order's to the CRM's as-of year; the measures as gold.mtr_revenue_by_month's. A partial year
-- (the data starts after January 1 or ends before December 31) is flagged and its change against
-- the year before is not computed (NULL), nor is a full year's against a partial one.
-- Refresh: full (an aggregate of gold.fact_orders).

DELETE FROM gold.mtr_revenue_by_year;

WITH
digits AS (
    SELECT n FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS d (n)
),

numbers AS (
    SELECT a.n + 10 * b.n + 100 * c.n AS n
    FROM digits a CROSS JOIN digits b CROSS JOIN digits c
),

orders AS (
    SELECT
        {{ date_part('year', ordered_at) }} AS year,
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

years AS (
    SELECT
        {{ date_part('year', c.first_date) }} + n.n AS year,
        c.first_date,
        c.as_of_date
    FROM coverage c
    JOIN numbers n ON n.n <= {{ date_part('year', c.as_of_date) }} - {{ date_part('year', c.first_date) }}
),

yearly AS (
    SELECT
        y.year,
        y.as_of_date,
        COALESCE(SUM(o.revenue), 0) AS revenue,
        COUNT(o.year) AS orders,
        COALESCE(SUM(CAST(o.units AS BIGINT)), 0) AS units, -- INT sums overflow at 2^31 on T-SQL
        COUNT(DISTINCT o.account_id) AS customers,
        CASE
            WHEN {{ make_date(y.year, 1, 1) }} < y.first_date OR {{ make_date(y.year, 12, 31) }} > y.as_of_date THEN 1
            ELSE 0
        END AS is_partial
    FROM years y
    LEFT JOIN orders o ON o.year = y.year
    GROUP BY y.year, y.first_date, y.as_of_date
)

INSERT INTO gold.mtr_revenue_by_year (
    year, revenue, orders, units, customers, aov, revenue_per_customer,
    revenue_prior_year, revenue_yoy_change, revenue_yoy_change_pct, is_partial_period, as_of_date
)
SELECT
    CAST(cur.year AS INT) AS year,
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
FROM yearly cur
LEFT JOIN yearly prior ON prior.year = cur.year - 1;
