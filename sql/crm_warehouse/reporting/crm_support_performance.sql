-- reporting.crm_support_performance: Per channel and month: response and resolution percentiles, CSAT, SLA compliance, top issue types (Support and Customer Satisfaction).
-- The columns are gold.mtr_support_performance's; the view is the stable contract Power BI reads.
SELECT
    channel,
    month_start,
    tickets,
    responded,
    resolved,
    first_response_hours_median,
    first_response_hours_p75,
    first_response_hours_p95,
    first_response_hours_mean,
    resolution_hours_median,
    resolution_hours_p75,
    resolution_hours_p95,
    resolution_hours_mean,
    csat_answers,
    csat_mean,
    csat_positive_share,
    sla_decided,
    sla_met,
    sla_compliance,
    top_issue_type_1,
    top_issue_type_2,
    top_issue_type_3,
    is_partial_period
FROM gold.mtr_support_performance
