-- silver.stg_crm_order_lines: one row per order line, its latest version, typed, with its
-- revenue (quantity × unit_price × (1 − discount), rounded to the cent) and fulfilment days
-- (calendar days from order to delivery; NULL until delivered).
-- Which version: the latest updated_at; on a tie the file ingested last, then the later file
-- name, then the later line (see stg_crm_accounts).
-- Refresh: by change date: the orders with a line version updated in @date_from..@date_to have
-- all their lines derived again from all their versions (the order is the unit of change).

DELETE FROM silver.stg_crm_order_lines
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR order_id IN (
        SELECT changed.order_id FROM bronze.crm_order_lines changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_order_lines' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT order_id
    FROM bronze.crm_order_lines
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_order_lines' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

-- The versions to rank, in one of two ways; a test on bronze versions outside @date_from …
-- @date_to lets only one of them read anything:
--   * some lie outside (a daily run): every version of every order the dates carry (its
--     winner may lie outside them), ranked per line;
--   * none (a first or whole build, a million versions): the lines of an order none of whose
--     lines has two versions pass as they are; only the other orders' versions are ranked
--     (a window over every version sorts them all; see stg_crm_activities).
-- Each CTE is referenced once, so no engine evaluates one twice.
versions AS (
    SELECT
        b.order_id, b.line_number, b.account_id, b.contact_id, b.product_id, b.quantity, b.unit_price,
        b.discount, b.order_status, b.ordered_at, b.shipped_at, b.delivered_at, b.updated_at,
        b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.order_id, b.line_number
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_order_lines b
    WHERE b.order_id IN (SELECT order_id FROM changed)
      AND EXISTS (SELECT 1 FROM bronze.crm_order_lines o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
    UNION ALL
    SELECT
        b.order_id, b.line_number, b.account_id, b.contact_id, b.product_id, b.quantity, b.unit_price,
        b.discount, b.order_status, b.ordered_at, b.shipped_at, b.delivered_at, b.updated_at,
        b._source_file, b._row_number,
        1 AS version_rank
    FROM bronze.crm_order_lines b
    WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_order_lines o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
      AND b.order_id NOT IN (
          -- (order_id is NOT NULL in bronze, so NOT IN cannot meet a NULL)
          SELECT r.order_id FROM bronze.crm_order_lines r
          -- (asked here too: DuckDB builds the set of ids before it finds nothing to probe)
          WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_order_lines o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
          GROUP BY r.order_id, r.line_number
          HAVING COUNT(*) > 1
      )
    UNION ALL
    SELECT
        b.order_id, b.line_number, b.account_id, b.contact_id, b.product_id, b.quantity, b.unit_price,
        b.discount, b.order_status, b.ordered_at, b.shipped_at, b.delivered_at, b.updated_at,
        b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.order_id, b.line_number
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_order_lines b
    WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_order_lines o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
      AND b.order_id IN (
          SELECT r.order_id FROM bronze.crm_order_lines r
          -- (asked here too: DuckDB builds the set of ids before it finds nothing to probe)
          WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_order_lines o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
          GROUP BY r.order_id, r.line_number
          HAVING COUNT(*) > 1
      )
),

typed AS (
    SELECT
        order_id,
        CAST(line_number AS INT) AS line_number,
        account_id, contact_id, product_id,
        CAST(quantity AS INT) AS quantity,
        CAST(unit_price AS DECIMAL(10, 2)) AS unit_price,
        CAST(COALESCE(discount, '0') AS DECIMAL(5, 4)) AS discount,
        order_status,
        {{ to_timestamp(ordered_at) }} AS ordered_at,
        {{ to_timestamp(shipped_at) }} AS shipped_at,
        {{ to_timestamp(delivered_at) }} AS delivered_at,
        updated_at, _source_file, _row_number
    FROM versions
    WHERE version_rank = 1
)

INSERT INTO silver.stg_crm_order_lines (
    order_id, line_number, account_id, contact_id, product_id, quantity, unit_price, discount,
    gross_amount, revenue, order_status, ordered_at, shipped_at, delivered_at, fulfilment_days,
    updated_at, updated_date, _source_file, _row_number
)
SELECT
    order_id,
    line_number,
    account_id,
    contact_id,
    product_id,
    quantity,
    unit_price,
    discount,
    CAST(CAST(quantity AS DECIMAL(18, 0)) * unit_price AS DECIMAL(18, 2)) AS gross_amount,
    -- DECIMAL(28, 0): DuckDB types DECIMAL(18, 0) × DECIMAL(10, 2) × DECIMAL(5, 4) as DECIMAL(18, 6), which overflows
    -- from 10^12; this is DECIMAL(38, 6) on both engines
    CAST(ROUND(CAST(quantity AS DECIMAL(28, 0)) * unit_price * (1 - discount), 2) AS DECIMAL(18, 2)) AS revenue,
    order_status,
    ordered_at,
    shipped_at,
    delivered_at,
    {{ days_between(ordered_at, delivered_at) }} AS fulfilment_days,
    {{ to_timestamp(updated_at) }} AS updated_at,
    CAST(updated_at AS DATE) AS updated_date,
    _source_file,
    _row_number
FROM typed;
