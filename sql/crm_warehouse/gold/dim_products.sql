-- gold.dim_products: products as they are now (Type 1), one row per product with its surrogate
-- key (silver.crm_product_keys), plus the unknown member (key -1) for order lines whose product
-- has not arrived (yet).
--   inventory_status  Out of stock (0 in stock), Low stock (at or below the reorder level), In stock
--   price_tier        by unit price: Budget (under 20), Standard (20 – 100), Premium (100 – 500), Luxury (500 or more)
--   unit_profit       unit_price − unit_cost; margin_pct its share of the price (NULL while the cost is unknown)
-- Refresh: full (a few thousand rows).

DELETE FROM gold.dim_products;

WITH
products AS (
    SELECT
        k.product_key,
        p.product_id,
        p.sku,
        p.product_name,
        COALESCE(p.category, 'Uncategorised') AS category,
        p.unit_price,
        p.unit_cost,
        p.unit_margin AS unit_profit,
        p.margin_pct,
        p.stock_quantity,
        p.reorder_level,
        CASE
            WHEN p.stock_quantity = 0 THEN 'Out of stock'
            WHEN p.stock_quantity <= p.reorder_level THEN 'Low stock'
            ELSE 'In stock'
        END AS inventory_status,
        CASE
            WHEN p.unit_price < 20 THEN 'Budget'
            WHEN p.unit_price < 100 THEN 'Standard'
            WHEN p.unit_price < 500 THEN 'Premium'
            ELSE 'Luxury'
        END AS price_tier,
        p.is_active,
        p.updated_at
    FROM silver.stg_crm_products p
    JOIN silver.crm_product_keys k ON k.product_id = p.product_id
)

INSERT INTO gold.dim_products (
    product_key, product_id, sku, product_name, category, unit_price, unit_cost, unit_profit, margin_pct,
    stock_quantity, reorder_level, inventory_status, price_tier, is_active, updated_at
)
SELECT
    product_key, product_id, sku, product_name, category, unit_price, unit_cost, unit_profit, margin_pct,
    stock_quantity, reorder_level, inventory_status, price_tier, is_active, updated_at
FROM products
UNION ALL
SELECT -1, NULL, NULL, 'Unknown product', 'Unknown', NULL, NULL, NULL, NULL, NULL, NULL, 'Unknown', 'Unknown', 0, NULL;
