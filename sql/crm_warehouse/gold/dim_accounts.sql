-- gold.dim_accounts: accounts as they are now (Type 1), one row per account with its surrogate
-- key (silver.crm_account_keys: stable across runs), plus the unknown member (key -1) that facts
-- point to when they name no account, or one not received (yet).
--   account_category  by employees: Enterprise (1,000 or more), Mid-market (100–999), Small business (under 100), Unknown
--   revenue_segment   by annual revenue: High (100 M or more), Medium (10 M – 100 M), Low (under 10 M), Unknown
-- Refresh: by change date: the accounts staging changed in @date_from..@date_to (and the unknown
-- member, always written again).

DELETE FROM gold.dim_accounts
WHERE account_key = -1
   OR updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR account_id IN (SELECT a.account_id FROM silver.stg_crm_accounts a WHERE a.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE));

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
        a.updated_at,
        a.updated_date
    FROM silver.stg_crm_accounts a
    JOIN silver.crm_account_keys k ON k.account_id = a.account_id
    WHERE a.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
)

INSERT INTO gold.dim_accounts (
    account_key, account_id, account_name, industry, country, employee_count, annual_revenue,
    account_type, account_category, revenue_segment, owner, created_at, updated_at, updated_date
)
SELECT
    account_key, account_id, account_name, industry, country, employee_count, annual_revenue,
    account_type, account_category, revenue_segment, owner, created_at, updated_at, updated_date
FROM accounts
UNION ALL
SELECT -1, NULL, 'Unknown account', 'Unknown', 'Unknown', NULL, NULL, 'unknown', 'Unknown', 'Unknown', NULL, NULL, NULL, NULL;
