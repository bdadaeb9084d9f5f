-- gold.mtr_support_performance: per ticket channel and calendar month of creation, every month
-- from the first ticket's to the as-of month (a month without tickets is a row of zeros):
--   tickets, responded, resolved
--   first_response_hours_* , resolution_hours_*  median, P75, P95 (continuous percentiles) and
--                            mean, over the tickets answered / resolved; NULL without any
--   csat_answers, csat_mean  answered surveys and their mean score
--   csat_positive_share      scores of 4 or 5 over the answered surveys
--   sla_decided, sla_met, sla_compliance  tickets whose SLA is decided (met or breached), those
--                            met, and met / decided
--   top_issue_type_1..3      the issue types with the most tickets (ties in name order)
--   is_partial_period        the month starts before the first ticket's day or ends after the as-of date
-- Refresh: full.

DELETE FROM gold.mtr_support_performance;

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
        channel,
        {{ month_start(CAST(created_at AS DATE)) }} AS month_start,
        issue_type,
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

grid AS (
    SELECT
        ch.channel,
        {{ add_months(month_start(c.first_date), n.n) }} AS month_start,
        c.first_date,
        c.as_of_date
    FROM coverage c
    JOIN numbers n ON n.n <= {{ months_between(c.first_date, c.as_of_date) }}
    CROSS JOIN (SELECT DISTINCT channel FROM tickets) ch
),

counts AS (
    SELECT
        channel,
        month_start,
        COUNT(*) AS tickets,
        COUNT(first_response_hours) AS responded,
        COUNT(resolution_hours) AS resolved,
        AVG({{ to_double(first_response_hours) }}) AS first_response_mean,
        AVG({{ to_double(resolution_hours) }}) AS resolution_mean,
        COUNT(csat_score) AS csat_answers,
        AVG({{ to_double(csat_score) }}) AS csat_mean,
        SUM(CASE WHEN is_csat_positive = 1 THEN 1 ELSE 0 END) AS csat_positive,
        SUM(CASE WHEN sla_met IS NOT NULL THEN 1 ELSE 0 END) AS sla_decided,
        SUM(CASE WHEN sla_met = 1 THEN 1 ELSE 0 END) AS sla_met
    FROM tickets
    GROUP BY channel, month_start
),

-- percentiles: a window value per partition, then one row per partition
response_windows AS (
    SELECT
        channel,
        month_start,
        {{ percentile_cont(0.5, first_response_hours, channel, month_start) }} AS p50,
        {{ percentile_cont(0.75, first_response_hours, channel, month_start) }} AS p75,
        {{ percentile_cont(0.95, first_response_hours, channel, month_start) }} AS p95
    FROM tickets
    WHERE first_response_hours IS NOT NULL
),

response_percentiles AS (
    SELECT channel, month_start, MAX(p50) AS p50, MAX(p75) AS p75, MAX(p95) AS p95
    FROM response_windows
    GROUP BY channel, month_start
),

resolution_windows AS (
    SELECT
        channel,
        month_start,
        {{ percentile_cont(0.5, resolution_hours, channel, month_start) }} AS p50,
        {{ percentile_cont(0.75, resolution_hours, channel, month_start) }} AS p75,
        {{ percentile_cont(0.95, resolution_hours, channel, month_start) }} AS p95
    FROM tickets
    WHERE resolution_hours IS NOT NULL
),

resolution_percentiles AS (
    SELECT channel, month_start, MAX(p50) AS p50, MAX(p75) AS p75, MAX(p95) AS p95
    FROM resolution_windows
    GROUP BY channel, month_start
),

issue_counts AS (
    SELECT
        channel,
        month_start,
        issue_type,
        ROW_NUMBER() OVER (PARTITION BY channel, month_start ORDER BY COUNT(*) DESC, issue_type) AS issue_rank
    FROM tickets
    GROUP BY channel, month_start, issue_type
),

top_issues AS (
    SELECT
        channel,
        month_start,
        MAX(CASE WHEN issue_rank = 1 THEN issue_type END) AS top_issue_type_1,
        MAX(CASE WHEN issue_rank = 2 THEN issue_type END) AS top_issue_type_2,
        MAX(CASE WHEN issue_rank = 3 THEN issue_type END) AS top_issue_type_3
    FROM issue_counts
    WHERE issue_rank <= 3
    GROUP BY channel, month_start
)

INSERT INTO gold.mtr_support_performance (
    channel, month_start, tickets, responded, resolved,
    first_response_hours_median, first_response_hours_p75, first_response_hours_p95, first_response_hours_mean,
    resolution_hours_median, resolution_hours_p75, resolution_hours_p95, resolution_hours_mean,
    csat_answers, csat_mean, csat_positive_share, sla_decided, sla_met, sla_compliance,
    top_issue_type_1, top_issue_type_2, top_issue_type_3, is_partial_period
)
SELECT
    g.channel,
    g.month_start,
    CAST(COALESCE(c.tickets, 0) AS INT) AS tickets,
    CAST(COALESCE(c.responded, 0) AS INT) AS responded,
    CAST(COALESCE(c.resolved, 0) AS INT) AS resolved,
    CAST({{ round_to(rp.p50, 3) }} AS DECIMAL(14, 3)) AS first_response_hours_median,
    CAST({{ round_to(rp.p75, 3) }} AS DECIMAL(14, 3)) AS first_response_hours_p75,
    CAST({{ round_to(rp.p95, 3) }} AS DECIMAL(14, 3)) AS first_response_hours_p95,
    CAST({{ round_to(c.first_response_mean, 3) }} AS DECIMAL(14, 3)) AS first_response_hours_mean,
    CAST({{ round_to(sp.p50, 3) }} AS DECIMAL(14, 3)) AS resolution_hours_median,
    CAST({{ round_to(sp.p75, 3) }} AS DECIMAL(14, 3)) AS resolution_hours_p75,
    CAST({{ round_to(sp.p95, 3) }} AS DECIMAL(14, 3)) AS resolution_hours_p95,
    CAST({{ round_to(c.resolution_mean, 3) }} AS DECIMAL(14, 3)) AS resolution_hours_mean,
    CAST(COALESCE(c.csat_answers, 0) AS INT) AS csat_answers,
    CAST({{ round_to(c.csat_mean, 3) }} AS DECIMAL(6, 3)) AS csat_mean,
    CAST({{ round_to(safe_divide(c.csat_positive, c.csat_answers), 4) }} AS DECIMAL(9, 4)) AS csat_positive_share,
    CAST(COALESCE(c.sla_decided, 0) AS INT) AS sla_decided,
    CAST(COALESCE(c.sla_met, 0) AS INT) AS sla_met,
    CAST({{ round_to(safe_divide(c.sla_met, c.sla_decided), 4) }} AS DECIMAL(9, 4)) AS sla_compliance,
    ti.top_issue_type_1,
    ti.top_issue_type_2,
    ti.top_issue_type_3,
    CASE
        WHEN g.month_start < g.first_date OR {{ add_days(add_months(g.month_start, 1), -1) }} > g.as_of_date THEN 1
        ELSE 0
    END AS is_partial_period
FROM grid g
LEFT JOIN counts c ON c.channel = g.channel AND c.month_start = g.month_start
LEFT JOIN response_percentiles rp ON rp.channel = g.channel AND rp.month_start = g.month_start
LEFT JOIN resolution_percentiles sp ON sp.channel = g.channel AND sp.month_start = g.month_start
LEFT JOIN top_issues ti ON ti.channel = g.channel AND ti.month_start = g.month_start;
