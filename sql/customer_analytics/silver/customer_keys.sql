-- silver.customer_keys: the surrogate key of every customer version, (customer_id, valid_from) →
-- customer_key. Rows are only ever added, so a key never changes: the fact's keys stay valid
-- when gold.dim_customer is rebuilt, and a new version only re-points the transactions from
-- its own start on.
-- Every customer has a version from 1900-01-01: for a customer with records, "not known yet"
-- until the first record's day; for one seen only in transactions or sales, its only version.
-- Refresh: full, adding the versions it has not seen; transactions and sales are read over the
-- changed dates only (@date_from, @date_to): their customers are the ones that can be new.

WITH
wanted AS (
    SELECT customer_id, valid_from FROM silver.customer_versions
    UNION
    SELECT customer_id, CAST('1900-01-01' AS DATE) AS valid_from FROM silver.customer_versions
    UNION
    SELECT customer_id, CAST('1900-01-01' AS DATE) AS valid_from
    FROM bronze.transactions
    WHERE transaction_date >= @date_from AND transaction_date < CONCAT(@date_to, 'T')
    UNION
    SELECT customer_id, CAST('1900-01-01' AS DATE) AS valid_from
    FROM bronze.sales
    WHERE order_date >= @date_from AND order_date < CONCAT(@date_to, 'T')
),

new_versions AS (
    SELECT w.customer_id, w.valid_from
    FROM wanted w
    WHERE NOT EXISTS (
        SELECT 1 FROM silver.customer_keys k
        WHERE k.customer_id = w.customer_id AND k.valid_from = w.valid_from
    )
),

last_key AS (
    SELECT COALESCE(MAX(customer_key), 0) AS max_key FROM silver.customer_keys
)

INSERT INTO silver.customer_keys (customer_id, valid_from, customer_key)
SELECT
    n.customer_id,
    n.valid_from,
    CAST(l.max_key + ROW_NUMBER() OVER (ORDER BY n.customer_id, n.valid_from) AS INT) AS customer_key
FROM new_versions n
CROSS JOIN last_key l;
