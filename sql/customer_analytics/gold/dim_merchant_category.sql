-- gold.dim_merchant_category: one row per merchant category, and the member "(unknown)" with key 0
-- for transactions without a category and for every sales row. Rows are only ever added, so a
-- key never changes; categories are compared as written (binary, like every text).
-- Refresh: full, adding the categories of the changed dates (@date_from, @date_to) it has not seen.

-- the unknown member, as soon as there is data (a shop with only sales files needs it too)
INSERT INTO gold.dim_merchant_category (merchant_category_key, merchant_category, is_unknown)
SELECT 0, '(unknown)', 1
WHERE NOT EXISTS (SELECT 1 FROM gold.dim_merchant_category WHERE merchant_category_key = 0)
  AND (EXISTS (SELECT 1 FROM bronze.transactions) OR EXISTS (SELECT 1 FROM bronze.sales));

WITH
seen AS (
    SELECT DISTINCT merchant_category
    FROM bronze.transactions
    WHERE merchant_category IS NOT NULL
      AND transaction_date >= @date_from AND transaction_date < CONCAT(@date_to, 'T')
),

new_categories AS (
    SELECT s.merchant_category
    FROM seen s
    WHERE NOT EXISTS (SELECT 1 FROM gold.dim_merchant_category d WHERE d.merchant_category = s.merchant_category)
),

last_key AS (
    SELECT COALESCE(MAX(merchant_category_key), 0) AS max_key FROM gold.dim_merchant_category
)

INSERT INTO gold.dim_merchant_category (merchant_category_key, merchant_category, is_unknown)
SELECT
    CAST(l.max_key + ROW_NUMBER() OVER (ORDER BY n.merchant_category) AS INT) AS merchant_category_key,
    n.merchant_category,
    0 AS is_unknown
FROM new_categories n
CROSS JOIN last_key l;
