-- silver.crm_product_keys: the products' surrogate keys. A key, once given, is never changed or taken
-- back: this model only appends the product_ids staging holds that have none yet, numbered after the
-- largest key so far in product_id order. So a product keeps its key across runs, full rebuilds
-- of the other models included, and the facts' keys stay valid. (The model reads its own table.)
-- Refresh: full (an anti-join of staging's ids against this table; nothing is deleted).

WITH
new_ids AS (
    SELECT s.product_id
    FROM silver.stg_crm_products s
    WHERE NOT EXISTS (SELECT 1 FROM silver.crm_product_keys k WHERE k.product_id = s.product_id)
),

numbered AS (
    SELECT product_id, ROW_NUMBER() OVER (ORDER BY product_id) AS n
    FROM new_ids
),

largest AS (
    SELECT COALESCE(MAX(product_key), 0) AS max_key FROM silver.crm_product_keys
)

INSERT INTO silver.crm_product_keys (product_key, product_id)
SELECT CAST(l.max_key + n.n AS INT) AS product_key, n.product_id
FROM numbered n
CROSS JOIN largest l;
