-- gold.fact_order_lines: one row per order line, keyed to its account, contact and product (-1:
-- none, or not received yet), with:
--   revenue            quantity × unit_price × (1 − discount), to the cent (staging)
--   discount_amount    gross_amount − revenue
--   unit_cost, cost    the product's current unit cost (products are Type 1: no cost history),
--                      × quantity; NULL while the product or its cost is unknown
--   margin             revenue − cost
--   counts_as_revenue  the line is not cancelled or returned (the metrics sum only these)
--   order_date_key     the order's (gold.fact_orders: its first line's order date)
-- Refresh: by change date: the lines staging changed in @date_from..@date_to, and the lines of
-- products that changed then (a product that arrives a file after its order gets its key and cost;
-- a new cost reprices its lines), are rebuilt; rows keyed to an unknown account or contact that has
-- since arrived get its key.

DELETE FROM gold.fact_order_lines
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

costed AS (
    SELECT
        s.*,
        COALESCE(a.account_key, -1) AS account_key,
        COALESCE(c.contact_key, -1) AS contact_key,
        COALESCE(p.product_key, -1) AS product_key,
        p.unit_cost,
        CAST(CAST(s.quantity AS DECIMAL(18, 0)) * p.unit_cost AS DECIMAL(18, 2)) AS cost
    FROM silver.stg_crm_order_lines s
    JOIN touched t ON t.order_id = s.order_id
    LEFT JOIN gold.dim_accounts a ON a.account_id = s.account_id
    LEFT JOIN gold.dim_contacts c ON c.contact_id = s.contact_id
    LEFT JOIN gold.dim_products p ON p.product_id = s.product_id
)

INSERT INTO gold.fact_order_lines (
    order_id, line_number, account_key, contact_key, product_key, account_id, contact_id, product_id,
    quantity, unit_price, discount, gross_amount, discount_amount, revenue, unit_cost, cost, margin,
    order_status, counts_as_revenue, ordered_at, shipped_at, delivered_at, fulfilment_days,
    order_date_key, updated_date
)
SELECT
    l.order_id,
    l.line_number,
    l.account_key,
    l.contact_key,
    l.product_key,
    l.account_id,
    l.contact_id,
    l.product_id,
    l.quantity,
    l.unit_price,
    l.discount,
    l.gross_amount,
    l.gross_amount - l.revenue AS discount_amount,
    l.revenue,
    l.unit_cost,
    l.cost,
    l.revenue - l.cost AS margin,
    l.order_status,
    CASE WHEN l.order_status IN ('cancelled', 'returned') THEN 0 ELSE 1 END AS counts_as_revenue,
    l.ordered_at,
    l.shipped_at,
    l.delivered_at,
    l.fulfilment_days,
    o.order_date_key,
    l.updated_date
FROM costed l
JOIN gold.fact_orders o ON o.order_id = l.order_id;

-- a parent that arrived after its rows: they get its key (keys never change once given)
UPDATE gold.fact_order_lines
-- (the dimension's id renamed in a derived table, so the bare id below is this table's, on both engines)
SET account_key = (SELECT d.account_key FROM (SELECT account_key, account_id AS known_id FROM gold.dim_accounts) d WHERE d.known_id = account_id)
WHERE account_key = -1
  AND account_id IN (SELECT known.account_id FROM gold.dim_accounts known);

UPDATE gold.fact_order_lines
SET contact_key = (SELECT d.contact_key FROM (SELECT contact_key, contact_id AS known_id FROM gold.dim_contacts) d WHERE d.known_id = contact_id)
WHERE contact_key = -1
  AND contact_id IN (SELECT known.contact_id FROM gold.dim_contacts known);
