-- gold.monthly_metrics: per calendar month from the data's first month to the as-of date's month
-- (every month, none skipped): revenue (approved spend, net of refunds), orders (purchases),
-- customers (with a purchase in the month), new customers (their first purchase in the month),
-- returning customers (the others), average order value (revenue / orders), declined
-- transactions. is_partial_period: the data does not cover the whole month (it starts after the
-- month's first day, or the as-of date is before its last).
-- Refresh: full.

DELETE FROM gold.monthly_metrics;

WITH
as_of AS (
    SELECT as_of_date, first_transaction_date, {{ month_start(as_of_date) }} AS as_of_month, {{ month_start(first_transaction_date) }} AS first_month
    FROM silver.customer_as_of
),

months AS (
    SELECT DISTINCT d.month_start
    FROM gold.dim_date d
    CROSS JOIN as_of a
    WHERE d.month_start BETWEEN a.first_month AND a.as_of_month
),

first_purchases AS (
    SELECT customer_id, MIN(month_start) AS first_month
    FROM silver.customer_monthly
    WHERE purchases > 0
    GROUP BY customer_id
),

monthly AS (
    SELECT
        c.month_start,
        SUM(c.spend) AS revenue,
        SUM(c.purchases) AS orders,
        SUM(CASE WHEN c.purchases > 0 THEN 1 ELSE 0 END) AS customers,
        SUM(CASE WHEN c.purchases > 0 AND f.first_month = c.month_start THEN 1 ELSE 0 END) AS new_customers,
        SUM(c.declined_count) AS declined_transactions
    FROM silver.customer_monthly c
    LEFT JOIN first_purchases f ON f.customer_id = c.customer_id
    GROUP BY c.month_start
)

INSERT INTO gold.monthly_metrics (
    month_start, as_of_date, revenue, orders, customers, new_customers, returning_customers,
    average_order_value, declined_transactions, is_partial_period
)
SELECT
    m.month_start,
    a.as_of_date,
    COALESCE(x.revenue, 0) AS revenue,
    COALESCE(x.orders, 0) AS orders,
    COALESCE(x.customers, 0) AS customers,
    COALESCE(x.new_customers, 0) AS new_customers,
    COALESCE(x.customers, 0) - COALESCE(x.new_customers, 0) AS returning_customers,
    CAST({{ round_to(safe_divide(x.revenue, x.orders), 2) }} AS DECIMAL(18, 2)) AS average_order_value,
    COALESCE(x.declined_transactions, 0) AS declined_transactions,
    CASE
        WHEN a.first_transaction_date > m.month_start THEN 1
        WHEN m.month_start = a.as_of_month AND {{ month_start(add_days(a.as_of_date, 1)) }} <> {{ add_days(a.as_of_date, 1) }} THEN 1
        ELSE 0
    END AS is_partial_period
FROM months m
CROSS JOIN as_of a
LEFT JOIN monthly x ON x.month_start = m.month_start;
