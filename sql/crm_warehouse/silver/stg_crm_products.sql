-- silver.stg_crm_products: one row per product, its latest version, typed, with its margin.
-- Which version: the latest updated_at; on a tie the file ingested last, then the later file
-- name, then the later line (see stg_crm_accounts).
-- Refresh: by change date: products with a version updated in @date_from..@date_to are derived
-- again from all their versions.

DELETE FROM silver.stg_crm_products
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR product_id IN (
        SELECT changed.product_id FROM bronze.crm_products changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_products' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT product_id
    FROM bronze.crm_products
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_products' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

versions AS (
    SELECT
        b.product_id, b.sku, b.product_name, b.category, b.unit_price, b.unit_cost, b.stock_quantity,
        b.reorder_level, b.is_active, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.product_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_products b
    WHERE b.product_id IN (SELECT product_id FROM changed)
),

typed AS (
    SELECT
        product_id, sku, product_name, category,
        CAST(unit_price AS DECIMAL(10, 2)) AS unit_price,
        CAST(unit_cost AS DECIMAL(10, 2)) AS unit_cost,
        CAST(stock_quantity AS INT) AS stock_quantity,
        CAST(reorder_level AS INT) AS reorder_level,
        CASE WHEN is_active = 'true' THEN 1 ELSE 0 END AS is_active,
        updated_at, _source_file, _row_number
    FROM versions
    WHERE version_rank = 1
)

INSERT INTO silver.stg_crm_products (
    product_id, sku, product_name, category, unit_price, unit_cost, unit_margin, margin_pct,
    stock_quantity, reorder_level, is_active, updated_at, updated_date, _source_file, _row_number
)
SELECT
    product_id,
    sku,
    product_name,
    category,
    unit_price,
    unit_cost,
    -- margin: unknown while the cost is
    unit_price - unit_cost AS unit_margin,
    -- NULL when it does not fit DECIMAL(9, 4) (a cost over 100,000 times the price): one odd product
    -- would otherwise fail the model on both engines
    CASE WHEN ABS({{ round_to(safe_divide(unit_price - unit_cost, unit_price), 4) }}) < 100000
         THEN CAST({{ round_to(safe_divide(unit_price - unit_cost, unit_price), 4) }} AS DECIMAL(9, 4)) END AS margin_pct,
    stock_quantity,
    reorder_level,
    is_active,
    {{ to_timestamp(updated_at) }} AS updated_at,
    CAST(updated_at AS DATE) AS updated_date,
    _source_file,
    _row_number
FROM typed;
