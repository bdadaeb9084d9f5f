-- reporting.company_activity_daily: the company activity fact as Power BI and the report read it,
-- one row per company per calendar day. The columns are gold's; the view is the stable contract.
SELECT
    activity_date,
    company_id,
    company_name,
    country,
    industry_tag,
    last_contact_at,
    active_users,
    events,
    active_users_7d,
    events_7d,
    is_churn_risk
FROM gold.fact_company_activity_daily
