-- reporting.crm_deals: Deals as they are now: weighted amount, days open, sales cycle, stage changes (Sales pipeline).
-- The columns are gold.fact_deals's; the view is the stable contract Power BI reads.
SELECT
    deal_id,
    account_key,
    contact_key,
    account_id,
    contact_id,
    deal_name,
    stage,
    amount,
    probability,
    weighted_amount,
    expected_close_date,
    owner,
    created_at,
    closed_at,
    is_closed,
    is_won,
    is_overdue,
    days_open,
    sales_cycle_days,
    stage_changes,
    created_date_key,
    closed_date_key
FROM gold.fact_deals
