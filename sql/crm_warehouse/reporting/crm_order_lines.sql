-- reporting.crm_order_lines: Order lines with revenue, cost and margin, keyed to account, contact and product (drill-down).
-- The columns are gold.fact_order_lines's; the view is the stable contract Power BI reads.
SELECT
    order_id,
    line_number,
    account_key,
    contact_key,
    product_key,
    account_id,
    contact_id,
    product_id,
    quantity,
    unit_price,
    discount,
    gross_amount,
    discount_amount,
    revenue,
    unit_cost,
    cost,
    margin,
    order_status,
    counts_as_revenue,
    ordered_at,
    shipped_at,
    delivered_at,
    fulfilment_days,
    order_date_key
FROM gold.fact_order_lines
