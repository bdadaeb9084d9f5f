-- silver.customer_monthly: one row per customer and calendar month with any transaction on or
-- before the as-of date: what the month-level marts (MoM, monthly metrics, cohorts) and the
-- lifetime figures (LTV) add up. Spend is approved amounts net of refunds; a purchase is an
-- approved transaction with a positive amount; declined ones are counted, never spent.
-- Refresh: full.

DELETE FROM silver.customer_monthly;

WITH
as_of AS (
    SELECT as_of_date FROM silver.customer_as_of
)

INSERT INTO silver.customer_monthly (
    customer_id, month_start, as_of_date, purchases, purchase_days, spend, purchase_amount,
    refund_amount, declined_count, first_purchase_date, last_purchase_date
)
SELECT
    f.customer_id,
    {{ month_start(f.transaction_date) }} AS month_start,
    a.as_of_date,
    SUM(CASE WHEN f.is_purchase = 1 THEN 1 ELSE 0 END) AS purchases,
    COUNT(DISTINCT CASE WHEN f.is_purchase = 1 THEN f.transaction_date END) AS purchase_days,
    SUM(f.spend_amount) AS spend,
    SUM(CASE WHEN f.is_purchase = 1 THEN f.amount ELSE 0 END) AS purchase_amount,
    SUM(CASE WHEN f.is_refund = 1 THEN 0 - f.amount ELSE 0 END) AS refund_amount,
    SUM(CASE WHEN f.is_approved = 0 THEN 1 ELSE 0 END) AS declined_count,
    MIN(CASE WHEN f.is_purchase = 1 THEN f.transaction_date END) AS first_purchase_date,
    MAX(CASE WHEN f.is_purchase = 1 THEN f.transaction_date END) AS last_purchase_date
FROM gold.fct_transactions f
CROSS JOIN as_of a
WHERE f.transaction_date <= a.as_of_date
GROUP BY f.customer_id, {{ month_start(f.transaction_date) }}, a.as_of_date;
