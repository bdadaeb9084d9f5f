-- gold.fact_orders: one row per order, from its lines in staging (line amounts as in
-- gold.fact_order_lines, which reads this table for the order's date):
--   account, contact, ordered_at and order_status  those of its first line (line_number order)
--   line_count, units, gross_amount, revenue, cost, margin  summed over the lines that count as
--     revenue (not cancelled or returned); cost and margin NULL when a line's cost is unknown
--   counts_as_revenue  at least one line does
--   delivered_at       the last line's delivery, once every line is delivered
--   fulfilment_days    calendar days from ordered_at to delivered_at
-- Refresh: by change date: the orders with a line staging changed in @date_from..@date_to, and the
-- orders with a line of a product that changed then, are rebuilt; rows keyed to an unknown account
-- or contact that has since arrived get its key.

DELETE FROM gold.fact_orders
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR order_id IN (
        SELECT s.order_id FROM silver.stg_crm_order_lines s
        WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
           OR s.product_id IN (SELECT p.product_id FROM silver.stg_crm_products p WHERE p.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)));

WITH
touched AS (
    -- changed in the range
    SELECT DISTINCT s.order_id FROM silver.stg_crm_order_lines s
    WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
       OR s.product_id IN (SELECT p.product_id FROM silver.stg_crm_products p WHERE p.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE))
),

lines AS (
    SELECT
        s.*,
        COALESCE(a.account_key, -1) AS account_key,
        COALESCE(c.contact_key, -1) AS contact_key,
        CAST(CAST(s.quantity AS DECIMAL(18, 0)) * p.unit_cost AS DECIMAL(18, 2)) AS cost,
        CASE WHEN s.order_status IN ('cancelled', 'returned') THEN 0 ELSE 1 END AS counts_as_revenue,
        ROW_NUMBER() OVER (PARTITION BY s.order_id ORDER BY s.line_number) AS line_rank
    FROM silver.stg_crm_order_lines s
    LEFT JOIN gold.dim_accounts a ON a.account_id = s.account_id
    LEFT JOIN gold.dim_contacts c ON c.contact_id = s.contact_id
    LEFT JOIN gold.dim_products p ON p.product_id = s.product_id
    WHERE s.order_id IN (SELECT order_id FROM touched)
),

totals AS (
    SELECT
        order_id,
        COUNT(*) AS line_count,
        SUM(CASE WHEN counts_as_revenue = 1 THEN quantity ELSE 0 END) AS units,
        SUM(CASE WHEN counts_as_revenue = 1 THEN gross_amount ELSE 0 END) AS gross_amount,
        SUM(CASE WHEN counts_as_revenue = 1 THEN revenue ELSE 0 END) AS revenue,
        -- NULL when a counted line's cost is unknown (SUM would skip it and understate the cost)
        CASE WHEN SUM(CASE WHEN counts_as_revenue = 1 AND cost IS NULL THEN 1 ELSE 0 END) = 0
             THEN SUM(CASE WHEN counts_as_revenue = 1 THEN cost ELSE 0 END) END AS cost,
        MAX(counts_as_revenue) AS counts_as_revenue,
        MAX(shipped_at) AS shipped_at,
        CASE WHEN COUNT(delivered_at) = COUNT(*) THEN MAX(delivered_at) END AS delivered_at,
        MAX(updated_date) AS updated_date
    FROM lines
    GROUP BY order_id
)

INSERT INTO gold.fact_orders (
    order_id, account_key, contact_key, account_id, contact_id, order_status, ordered_at, shipped_at,
    delivered_at, line_count, units, gross_amount, revenue, cost, margin, counts_as_revenue,
    fulfilment_days, order_date_key, updated_date
)
SELECT
    f.order_id,
    f.account_key,
    f.contact_key,
    f.account_id,
    f.contact_id,
    f.order_status,
    f.ordered_at,
    t.shipped_at,
    t.delivered_at,
    CAST(t.line_count AS INT) AS line_count,
    CAST(t.units AS INT) AS units,
    CAST(t.gross_amount AS DECIMAL(18, 2)) AS gross_amount,
    CAST(t.revenue AS DECIMAL(18, 2)) AS revenue,
    CAST(t.cost AS DECIMAL(18, 2)) AS cost,
    CAST(t.revenue - t.cost AS DECIMAL(18, 2)) AS margin,
    t.counts_as_revenue,
    {{ days_between(f.ordered_at, t.delivered_at) }} AS fulfilment_days,
    {{ date_key(CAST(f.ordered_at AS DATE)) }} AS order_date_key,
    t.updated_date
FROM lines f
JOIN totals t ON t.order_id = f.order_id
WHERE f.line_rank = 1;

-- a parent that arrived after its rows: they get its key (keys never change once given)
UPDATE gold.fact_orders
-- (the dimension's id renamed in a derived table, so the bare id below is this table's, on both engines)
SET account_key = (SELECT d.account_key FROM (SELECT account_key, account_id AS known_id FROM gold.dim_accounts) d WHERE d.known_id = account_id)
WHERE account_key = -1
  AND account_id IN (SELECT known.account_id FROM gold.dim_accounts known);

UPDATE gold.fact_orders
SET contact_key = (SELECT d.contact_key FROM (SELECT contact_key, contact_id AS known_id FROM gold.dim_contacts) d WHERE d.known_id = contact_id)
WHERE contact_key = -1
  AND contact_id IN (SELECT known.contact_id FROM gold.dim_contacts known);
