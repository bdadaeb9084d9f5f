-- reporting.crm_weekly_ops: Per ISO week: tickets, response and resolution medians, CSAT, SLA violators, revenue at risk (Weekly operations).
-- The columns are gold.mtr_weekly_ops's; the view is the stable contract Power BI reads.
SELECT
    week_start,
    iso_year,
    iso_week,
    tickets,
    median_first_response_hours,
    median_resolution_hours,
    csat_answers,
    csat_positive_share,
    sla_violators,
    accounts_at_risk,
    revenue_at_risk,
    is_partial_period
FROM gold.mtr_weekly_ops
