-- reporting.crm_accounts: The account dimension: current attributes, category and revenue segment; key -1 is the unknown account.
-- The columns are gold.dim_accounts's; the view is the stable contract Power BI reads.
SELECT
    account_key,
    account_id,
    account_name,
    industry,
    country,
    employee_count,
    annual_revenue,
    account_type,
    account_category,
    revenue_segment,
    owner,
    created_at,
    updated_at
FROM gold.dim_accounts
