-- reporting.companies_at_churn_risk: the companies flagged on the latest day of the data (the
-- list a customer-success team works through), with what the flag rests on.
SELECT
    f.activity_date AS as_of_date,
    f.company_id,
    f.company_name,
    f.country,
    f.industry_tag,
    f.last_contact_at,
    f.active_users_7d,
    f.events_7d
FROM gold.fact_company_activity_daily f
WHERE f.is_churn_risk = 1
  AND f.activity_date = (SELECT MAX(latest.activity_date) FROM gold.fact_company_activity_daily latest)
