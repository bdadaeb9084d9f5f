-- silver.customer_monthly: one row per customer and calendar month with any transaction on or
-- before the as-of date: what the month-level marts (MoM, monthly metrics, cohorts) and the
-- lifetime figures (LTV) add up. Spend is approved amounts net of refunds; a purchase is an
-- approved transaction with a positive amount; declined ones are counted, never spent.
-- Refresh: full, but only the months that can have changed are recomputed (a daily file
-- touches one month, not the whole history):
--   * the months of the changed dates (@date_from, @date_to), and the months of every other row of
--     an id those dates carry (a transaction a later file moved from another month);
--   * every month from the earlier of the previous as-of date and this one (the as-of date moved:
--     a month is cut at it). The previous one is the computed_as_of of the latest month's rows,
--     which every run recomputes.
-- The months deleted are then exactly the months the table lacks, and those are inserted.

DELETE FROM silver.customer_monthly
WHERE month_start >= (
        SELECT {{ month_start(MIN(d)) }}
        FROM (
            SELECT as_of_date AS d FROM silver.customer_as_of
            UNION ALL
            SELECT MAX(computed_as_of) AS d FROM silver.customer_monthly
            WHERE month_start = (SELECT MAX(month_start) FROM silver.customer_monthly)
        ) as_of_dates
    )
   OR month_start IN (
        SELECT {{ month_start(CAST(transaction_date AS DATE)) }} FROM bronze.transactions
        WHERE transaction_id IN (
            SELECT transaction_id FROM bronze.transactions
            WHERE transaction_date >= @date_from AND transaction_date < CONCAT(@date_to, 'T')
              -- an empty table (a first build): no set of ids to build (DuckDB would, even to delete nothing)
              AND EXISTS (SELECT 1 FROM silver.customer_monthly)
        )
        UNION
        SELECT {{ month_start(CAST(order_date AS DATE)) }} FROM bronze.sales
        WHERE order_id IN (
            SELECT order_id FROM bronze.sales
            WHERE order_date >= @date_from AND order_date < CONCAT(@date_to, 'T')
              AND EXISTS (SELECT 1 FROM silver.customer_monthly)
        )
    );

WITH
as_of AS (
    SELECT as_of_date, first_transaction_date FROM silver.customer_as_of
),

-- the months the table lacks, up to the as-of date's
missing_months AS (
    SELECT DISTINCT d.month_start
    FROM gold.dim_date d
    CROSS JOIN as_of a
    WHERE d.month_start BETWEEN {{ month_start(a.first_transaction_date) }} AND a.as_of_date
      AND d.month_start NOT IN (SELECT month_start FROM silver.customer_monthly)
),

first_missing AS (
    SELECT MIN(month_start) AS month_start FROM missing_months
)

INSERT INTO silver.customer_monthly (
    customer_id, month_start, computed_as_of, purchases, purchase_days, spend, purchase_amount,
    refund_amount, declined_count, first_purchase_date, last_purchase_date
)
SELECT
    f.customer_id,
    {{ month_start(f.transaction_date) }} AS month_start,
    a.as_of_date AS computed_as_of,
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
CROSS JOIN first_missing m
WHERE f.transaction_date <= a.as_of_date
  AND f.transaction_date >= m.month_start
  AND {{ month_start(f.transaction_date) }} IN (SELECT month_start FROM missing_months)
GROUP BY f.customer_id, {{ month_start(f.transaction_date) }}, a.as_of_date;
