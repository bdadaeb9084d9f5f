-- gold.mtr_weekly_ops: per ISO week (Monday to Sunday) of ticket creation, every week from the
-- first ticket's to the as-of week:
--   tickets, median_first_response_hours, median_resolution_hours (tickets answered / resolved)
--   csat_answers, csat_positive_share  scores of 4 or 5 over the answered surveys
--   sla_violators             tickets of the week whose SLA is breached (sla_met = 0)
--   accounts_at_risk          accounts with such a ticket, or a CSAT of 1 or 2, that week
--   revenue_at_risk           those accounts' revenue over the trailing 52 weeks (364 days)
--                             ending with the week: orders that count as revenue
--   is_partial_period         the week starts before the first ticket's day or ends after the as-of date
-- Refresh: full.

DELETE FROM gold.mtr_weekly_ops;

WITH
digits AS (
    SELECT n FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS d (n)
),

numbers AS (
    SELECT a.n + 10 * b.n + 100 * c.n + 1000 * d.n AS n
    FROM digits a CROSS JOIN digits b CROSS JOIN digits c CROSS JOIN digits d
),

tickets AS (
    SELECT
        {{ week_start(CAST(created_at AS DATE)) }} AS week_start,
        account_id,
        first_response_hours,
        resolution_hours,
        csat_score,
        is_csat_positive,
        sla_met
    FROM gold.fact_tickets
),

coverage AS (
    SELECT MIN(CAST(t.created_at AS DATE)) AS first_date, MAX(x.as_of_date) AS as_of_date
    FROM gold.fact_tickets t
    CROSS JOIN silver.crm_as_of x
),

weeks AS (
    SELECT
        {{ add_days(week_start(c.first_date), 7 * n.n) }} AS week_start,
        c.first_date,
        c.as_of_date
    FROM coverage c
    JOIN numbers n ON 7 * n.n <= {{ days_between(week_start(c.first_date), c.as_of_date) }}
),

counts AS (
    SELECT
        week_start,
        COUNT(*) AS tickets,
        COUNT(csat_score) AS csat_answers,
        SUM(CASE WHEN is_csat_positive = 1 THEN 1 ELSE 0 END) AS csat_positive,
        SUM(CASE WHEN sla_met = 0 THEN 1 ELSE 0 END) AS sla_violators
    FROM tickets
    GROUP BY week_start
),

response_windows AS (
    SELECT week_start, {{ percentile_cont(0.5, first_response_hours, week_start) }} AS p50
    FROM tickets
    WHERE first_response_hours IS NOT NULL
),

resolution_windows AS (
    SELECT week_start, {{ percentile_cont(0.5, resolution_hours, week_start) }} AS p50
    FROM tickets
    WHERE resolution_hours IS NOT NULL
),

medians AS (
    SELECT week_start, MAX(response_p50) AS response_p50, MAX(resolution_p50) AS resolution_p50
    FROM (
        SELECT week_start, p50 AS response_p50, NULL AS resolution_p50 FROM response_windows
        UNION ALL
        SELECT week_start, NULL, p50 FROM resolution_windows
    ) both_medians
    GROUP BY week_start
),

at_risk AS (
    SELECT DISTINCT week_start, account_id
    FROM tickets
    WHERE account_id IS NOT NULL AND (sla_met = 0 OR csat_score IN (1, 2))
),

account_weeks AS (
    SELECT account_id, {{ week_start(CAST(ordered_at AS DATE)) }} AS week_start, SUM(revenue) AS revenue
    FROM gold.fact_orders
    WHERE counts_as_revenue = 1 AND account_id IN (SELECT account_id FROM at_risk)
    GROUP BY account_id, {{ week_start(CAST(ordered_at AS DATE)) }}
),

risk AS (
    SELECT
        r.week_start,
        COUNT(DISTINCT r.account_id) AS accounts_at_risk,
        SUM(COALESCE(aw.revenue, 0)) AS revenue_at_risk
    FROM at_risk r
    LEFT JOIN account_weeks aw
        ON aw.account_id = r.account_id
       AND aw.week_start BETWEEN {{ add_days(r.week_start, -357) }} AND r.week_start
    GROUP BY r.week_start
)

INSERT INTO gold.mtr_weekly_ops (
    week_start, iso_year, iso_week, tickets, median_first_response_hours, median_resolution_hours,
    csat_answers, csat_positive_share, sla_violators, accounts_at_risk, revenue_at_risk, is_partial_period
)
SELECT
    w.week_start,
    {{ iso_year(w.week_start) }} AS iso_year,
    {{ iso_week(w.week_start) }} AS iso_week,
    CAST(COALESCE(c.tickets, 0) AS INT) AS tickets,
    CAST({{ round_to(m.response_p50, 3) }} AS DECIMAL(14, 3)) AS median_first_response_hours,
    CAST({{ round_to(m.resolution_p50, 3) }} AS DECIMAL(14, 3)) AS median_resolution_hours,
    CAST(COALESCE(c.csat_answers, 0) AS INT) AS csat_answers,
    CAST({{ round_to(safe_divide(c.csat_positive, c.csat_answers), 4) }} AS DECIMAL(9, 4)) AS csat_positive_share,
    CAST(COALESCE(c.sla_violators, 0) AS INT) AS sla_violators,
    CAST(COALESCE(r.accounts_at_risk, 0) AS INT) AS accounts_at_risk,
    CAST(COALESCE(r.revenue_at_risk, 0) AS DECIMAL(24, 2)) AS revenue_at_risk,
    CASE WHEN w.week_start < w.first_date OR {{ add_days(w.week_start, 6) }} > w.as_of_date THEN 1 ELSE 0 END AS is_partial_period
FROM weeks w
LEFT JOIN counts c ON c.week_start = w.week_start
LEFT JOIN medians m ON m.week_start = w.week_start
LEFT JOIN risk r ON r.week_start = w.week_start;
