-- reporting.customer_monthly_metrics: revenue, orders, customers (new, returning) and AOV per month,
-- partial months flagged.
SELECT
    month_start, as_of_date, revenue, orders, customers, new_customers, returning_customers,
    average_order_value, declined_transactions, is_partial_period
FROM gold.monthly_metrics
