-- reporting.crm_products: The product dimension: current attributes, inventory status, price tier; key -1 is the unknown product.
-- The columns are gold.dim_products's; the view is the stable contract Power BI reads.
SELECT
    product_key,
    product_id,
    sku,
    product_name,
    category,
    unit_price,
    unit_cost,
    unit_profit,
    margin_pct,
    stock_quantity,
    reorder_level,
    inventory_status,
    price_tier,
    is_active,
    updated_at
FROM gold.dim_products
