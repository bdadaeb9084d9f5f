-- gold.dim_accounts: accounts as they are now (Type 1), one row per account with its surrogate
-- key (silver.crm_account_keys: stable across runs), plus the unknown member (key -1) that facts
-- point to when they name no account, or one not received (yet).
--   account_category  by employees: Enterprise (1,000 or more), Mid-market (100–999), Small business (under 100), Unknown
--   revenue_segment   by annual revenue: High (100 M or more), Medium (10 M – 100 M), Low (under 10 M), Unknown
-- Refresh: full (a few tens of thousands of rows).

DELETE FROM gold.dim_accounts;

WITH
accounts AS (
    SELECT
        k.account_key,
        a.account_id,
        a.account_name,
        COALESCE(a.industry, 'Unknown') AS industry,
        COALESCE(a.country, 'Unknown') AS country,
        a.employee_count,
        a.annual_revenue,
        a.account_type,
        CASE
            WHEN a.employee_count IS NULL THEN 'Unknown'
            WHEN a.employee_count >= 1000 THEN 'Enterprise'
            WHEN a.employee_count >= 100 THEN 'Mid-market'
            ELSE 'Small business'
        END AS account_category,
        CASE
            WHEN a.annual_revenue IS NULL THEN 'Unknown'
            WHEN a.annual_revenue >= 100000000 THEN 'High'
            WHEN a.annual_revenue >= 10000000 THEN 'Medium'
            ELSE 'Low'
        END AS revenue_segment,
        a.owner,
        a.created_at,
        a.updated_at
    FROM silver.stg_crm_accounts a
    JOIN silver.crm_account_keys k ON k.account_id = a.account_id
)

INSERT INTO gold.dim_accounts (
    account_key, account_id, account_name, industry, country, employee_count, annual_revenue,
    account_type, account_category, revenue_segment, owner, created_at, updated_at
)
SELECT
    account_key, account_id, account_name, industry, country, employee_count, annual_revenue,
    account_type, account_category, revenue_segment, owner, created_at, updated_at
FROM accounts
UNION ALL
SELECT -1, NULL, 'Unknown account', 'Unknown', 'Unknown', NULL, NULL, 'unknown', 'Unknown', 'Unknown', NULL, NULL, NULL;
