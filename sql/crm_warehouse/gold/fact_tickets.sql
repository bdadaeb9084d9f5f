-- gold.fact_tickets: one row per support ticket, keyed to its account and contact (-1: none, or
-- not received yet), with its hours, its SLA and its satisfaction:
--   response_target_hours, resolution_target_hours  by priority, from the settings
--     CRM_SLA_FIRST_RESPONSE_HOURS and CRM_SLA_RESOLUTION_HOURS (@sla_* parameters)
--   first_response_sla_met  1: answered within the target; 0: answered later, or not answered and
--     the target has passed at the CRM's as-of moment; NULL: not answered, the clock still running
--   resolution_sla_met      the same for resolution
--   sla_met                 0 when either is 0, 1 when both are 1, NULL otherwise
--   is_csat_positive        a score of 4 or 5; NULL when not answered
-- Refresh: by change date: the tickets staging changed in @date_from..@date_to are rebuilt; then
-- the SLA of every ticket still open (no response or no resolution yet) is measured again at the
-- as-of moment, and rows keyed to an unknown account or contact that has since arrived get its key.

DELETE FROM gold.fact_tickets
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR ticket_id IN (
        SELECT s.ticket_id FROM silver.stg_crm_tickets s
        WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE));

WITH
targeted AS (
    SELECT
        s.*,
        CASE s.priority
            WHEN 'urgent' THEN @sla_response_urgent WHEN 'high' THEN @sla_response_high
            WHEN 'medium' THEN @sla_response_medium ELSE @sla_response_low
        END AS response_target_hours,
        CASE s.priority
            WHEN 'urgent' THEN @sla_resolution_urgent WHEN 'high' THEN @sla_resolution_high
            WHEN 'medium' THEN @sla_resolution_medium ELSE @sla_resolution_low
        END AS resolution_target_hours,
        {{ hours_between(s.created_at, x.as_of_at) }} AS hours_open_at_as_of
    FROM silver.stg_crm_tickets s
    CROSS JOIN silver.crm_as_of x
    -- changed in the range
    WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
),

measured AS (
    SELECT
        g.*,
        CASE
            WHEN g.first_response_hours IS NOT NULL THEN CASE WHEN g.first_response_hours <= g.response_target_hours THEN 1 ELSE 0 END
            WHEN g.hours_open_at_as_of > g.response_target_hours THEN 0
        END AS response_met,
        CASE
            WHEN g.resolution_hours IS NOT NULL THEN CASE WHEN g.resolution_hours <= g.resolution_target_hours THEN 1 ELSE 0 END
            WHEN g.hours_open_at_as_of > g.resolution_target_hours THEN 0
        END AS resolution_met
    FROM targeted g
)

INSERT INTO gold.fact_tickets (
    ticket_id, account_key, contact_key, account_id, contact_id, channel, issue_type, priority, status,
    created_at, first_response_at, resolved_at, first_response_hours, resolution_hours,
    response_target_hours, resolution_target_hours, first_response_sla_met, resolution_sla_met, sla_met,
    csat_score, is_csat_positive, is_resolved, created_date_key, updated_date
)
SELECT
    m.ticket_id,
    COALESCE(a.account_key, -1) AS account_key,
    COALESCE(c.contact_key, -1) AS contact_key,
    m.account_id,
    m.contact_id,
    m.channel,
    m.issue_type,
    m.priority,
    m.status,
    m.created_at,
    m.first_response_at,
    m.resolved_at,
    m.first_response_hours,
    m.resolution_hours,
    CAST(m.response_target_hours AS INT) AS response_target_hours,
    CAST(m.resolution_target_hours AS INT) AS resolution_target_hours,
    m.response_met AS first_response_sla_met,
    m.resolution_met AS resolution_sla_met,
    CASE WHEN m.response_met = 0 OR m.resolution_met = 0 THEN 0 WHEN m.response_met = 1 AND m.resolution_met = 1 THEN 1 END AS sla_met,
    m.csat_score,
    CASE WHEN m.csat_score >= 4 THEN 1 WHEN m.csat_score IS NOT NULL THEN 0 END AS is_csat_positive,
    CASE WHEN m.resolved_at IS NULL THEN 0 ELSE 1 END AS is_resolved,
    {{ date_key(CAST(m.created_at AS DATE)) }} AS created_date_key,
    m.updated_date
FROM measured m
LEFT JOIN gold.dim_accounts a ON a.account_id = m.account_id
LEFT JOIN gold.dim_contacts c ON c.contact_id = m.contact_id;

-- a ticket still open: its SLA clocks run on with the as-of moment
UPDATE gold.fact_tickets
SET first_response_sla_met = CASE
        WHEN first_response_hours IS NOT NULL THEN first_response_sla_met
        WHEN {{ hours_between(created_at, (SELECT as_of_at FROM silver.crm_as_of)) }} > response_target_hours THEN 0
    END,
    resolution_sla_met = CASE
        WHEN resolution_hours IS NOT NULL THEN resolution_sla_met
        WHEN {{ hours_between(created_at, (SELECT as_of_at FROM silver.crm_as_of)) }} > resolution_target_hours THEN 0
    END
WHERE first_response_at IS NULL OR resolved_at IS NULL;

UPDATE gold.fact_tickets
SET sla_met = CASE WHEN first_response_sla_met = 0 OR resolution_sla_met = 0 THEN 0 WHEN first_response_sla_met = 1 AND resolution_sla_met = 1 THEN 1 END
WHERE first_response_at IS NULL OR resolved_at IS NULL;

-- a parent that arrived after its rows: they get its key (keys never change once given)
UPDATE gold.fact_tickets
-- (the dimension's id renamed in a derived table, so the bare id below is this table's, on both engines)
SET account_key = (SELECT d.account_key FROM (SELECT account_key, account_id AS known_id FROM gold.dim_accounts) d WHERE d.known_id = account_id)
WHERE account_key = -1
  AND account_id IN (SELECT known.account_id FROM gold.dim_accounts known);

UPDATE gold.fact_tickets
SET contact_key = (SELECT d.contact_key FROM (SELECT contact_key, contact_id AS known_id FROM gold.dim_contacts) d WHERE d.known_id = contact_id)
WHERE contact_key = -1
  AND contact_id IN (SELECT known.contact_id FROM gold.dim_contacts known);
