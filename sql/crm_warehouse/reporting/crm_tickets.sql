-- reporting.crm_tickets: Tickets with hours, SLA verdicts and CSAT, keyed to account and contact (drill-down).
-- The columns are gold.fact_tickets's; the view is the stable contract Power BI reads.
SELECT
    ticket_id,
    account_key,
    contact_key,
    account_id,
    contact_id,
    channel,
    issue_type,
    priority,
    status,
    created_at,
    first_response_at,
    resolved_at,
    first_response_hours,
    resolution_hours,
    response_target_hours,
    resolution_target_hours,
    first_response_sla_met,
    resolution_sla_met,
    sla_met,
    csat_score,
    is_csat_positive,
    is_resolved,
    created_date_key
FROM gold.fact_tickets
