-- silver.customer_as_of: the one date every customer mart is computed as of, and why: the setting
-- ANALYTICS_AS_OF_DATE when it is set (@as_of_date), else the data's last transaction date (any
-- status, any source). Never the wall clock: a 2022 file analysed today gives 2022's answers.
-- Transactions after it are left out of the marts (the fact keeps them).
-- Refresh: full (one row; none while the fact is empty).

DELETE FROM silver.customer_as_of;

WITH
bounds AS (
    SELECT MIN(transaction_date) AS first_date, MAX(transaction_date) AS last_date
    FROM gold.fct_transactions
),

chosen AS (
    SELECT
        COALESCE(CAST(@as_of_date AS DATE), last_date) AS as_of_date,
        CASE WHEN CAST(@as_of_date AS DATE) IS NULL THEN 'data' ELSE 'ANALYTICS_AS_OF_DATE' END AS as_of_source,
        first_date,
        last_date
    FROM bounds
    WHERE last_date IS NOT NULL
)

INSERT INTO silver.customer_as_of (as_of_date, as_of_source, first_transaction_date, last_transaction_date, history_days)
SELECT
    as_of_date,
    as_of_source,
    first_date,
    last_date,
    -- days of history up to the as-of date (0: it is the first day of the data)
    CASE WHEN as_of_date < first_date THEN 0 ELSE {{ days_between(first_date, as_of_date) }} END AS history_days
FROM chosen;
