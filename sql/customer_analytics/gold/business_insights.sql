-- gold.business_insights: the headlines a marketing or finance team reads first, one row each,
-- with the figures behind it, a sentence made from them and a priority:
--   revenue_mom          the last complete month's revenue against the month before
--                        (High: down 10 % or more; Medium: down; Low: flat or up)
--   revenue_yoy          … against the same month a year before (same priorities)
--   high_value_at_risk   customers in the top lifetime-value band with a churn risk score of at
--                        least @high_churn_score, and their lifetime value (High when any)
--   one_time_buyers      the share of customers with exactly one purchase (High from 50 %,
--                        Medium from 25 %)
--   best_cohort_3m, worst_cohort_3m
--                        the cohorts with the highest and lowest retention in their month 3,
--                        among those whose month 3 is complete (the earlier cohort on a tie)
--   campaign_<name>      customers and estimated value per campaign (Retention High, Win-Back
--                        Medium, the others Low)
-- A row is left out when its figures do not exist yet (no complete month, no month a year back).
-- Refresh: full.

DELETE FROM gold.business_insights;

WITH
as_of AS (
    SELECT as_of_date FROM silver.customer_as_of
),

complete_months AS (
    SELECT m.month_start, m.revenue, ROW_NUMBER() OVER (ORDER BY m.month_start DESC) AS recency_rank
    FROM gold.monthly_metrics m
    WHERE m.is_partial_period = 0
),

last_month AS (
    SELECT c.month_start, c.revenue, d.month_name, d.year
    FROM complete_months c
    JOIN gold.dim_date d ON d.calendar_date = c.month_start
    WHERE c.recency_rank = 1
),

month_before AS (
    SELECT m.month_start, m.revenue, d.month_name, d.year
    FROM gold.monthly_metrics m
    JOIN last_month l ON m.month_start = {{ add_months(l.month_start, -1) }}
    JOIN gold.dim_date d ON d.calendar_date = m.month_start
),

year_before AS (
    SELECT m.month_start, m.revenue, d.month_name, d.year
    FROM gold.monthly_metrics m
    JOIN last_month l ON m.month_start = {{ add_months(l.month_start, -12) }}
    JOIN gold.dim_date d ON d.calendar_date = m.month_start
),

revenue_changes AS (
    SELECT
        'revenue_mom' AS insight_key,
        l.revenue,
        b.revenue AS earlier_revenue,
        CONCAT(l.month_name, ' ', l.year) AS month_label,
        CONCAT(b.month_name, ' ', b.year) AS earlier_label,
        CASE WHEN b.revenue <> 0 THEN CAST({{ round_to(100 * safe_divide(l.revenue - b.revenue, b.revenue), 2) }} AS DECIMAL(18, 2)) END AS change_pct
    FROM last_month l
    CROSS JOIN month_before b
    UNION ALL
    SELECT
        'revenue_yoy' AS insight_key,
        l.revenue,
        y.revenue AS earlier_revenue,
        CONCAT(l.month_name, ' ', l.year) AS month_label,
        CONCAT(y.month_name, ' ', y.year) AS earlier_label,
        CASE WHEN y.revenue <> 0 THEN CAST({{ round_to(100 * safe_divide(l.revenue - y.revenue, y.revenue), 2) }} AS DECIMAL(18, 2)) END AS change_pct
    FROM last_month l
    CROSS JOIN year_before y
),

at_risk AS (
    SELECT COUNT(*) AS customers, COALESCE(SUM(lifetime_value), 0) AS lifetime_value
    FROM gold.customer_segments
    WHERE is_top_ltv = 1 AND churn_risk_score >= @high_churn_score
),

buyers AS (
    SELECT COUNT(*) AS customers, SUM(CASE WHEN purchases = 1 THEN 1 ELSE 0 END) AS one_time
    FROM gold.metric_customer_ltv
),

month_three AS (
    SELECT
        c.cohort_month,
        c.retention_pct,
        c.cohort_customers,
        d.month_name,
        d.year,
        ROW_NUMBER() OVER (ORDER BY c.retention_pct DESC, c.cohort_month) AS best_rank,
        ROW_NUMBER() OVER (ORDER BY c.retention_pct, c.cohort_month) AS worst_rank
    FROM gold.cohort_analysis c
    JOIN gold.dim_date d ON d.calendar_date = c.cohort_month
    WHERE c.months_since_first = 3 AND c.is_partial_period = 0
),

campaigns AS (
    SELECT campaign, COUNT(*) AS customers, SUM(estimated_value) AS estimated_value
    FROM gold.campaign_targets
    GROUP BY campaign
),

insights AS (
    SELECT
        r.insight_key,
        'revenue_trend' AS insight_type,
        CASE WHEN r.insight_key = 'revenue_mom' THEN CONCAT('Revenue in ', r.month_label, ' against ', r.earlier_label) ELSE CONCAT('Revenue in ', r.month_label, ' against a year before') END AS title,
        r.revenue AS metric_value,
        r.earlier_revenue AS comparison_value,
        r.change_pct,
        CAST(NULL AS INT) AS metric_count,
        CONCAT('Revenue was ', r.revenue, ' in ', r.month_label, ' against ', r.earlier_revenue, ' in ', r.earlier_label,
               CASE WHEN r.change_pct IS NULL THEN '.' ELSE CONCAT(' (', r.change_pct, ' %).') END) AS detail,
        CASE WHEN r.change_pct <= -10 THEN 'High' WHEN r.change_pct < 0 THEN 'Medium' ELSE 'Low' END AS priority
    FROM revenue_changes r
    UNION ALL
    SELECT
        'high_value_at_risk',
        'customer_risk',
        'High-value customers at risk of churning',
        a.lifetime_value,
        CAST(NULL AS DECIMAL(18, 2)),
        CAST(NULL AS DECIMAL(18, 2)),
        a.customers,
        CONCAT(a.customers, ' customers in the top ', @high_value_top_pct, '% by lifetime value have a churn risk score of ', @high_churn_score, ' or more; together they have spent ', a.lifetime_value, '.'),
        CASE WHEN a.customers > 0 THEN 'High' ELSE 'Low' END
    FROM at_risk a
    UNION ALL
    SELECT
        'one_time_buyers',
        'customer_base',
        'Customers who bought once',
        CAST({{ round_to(100 * safe_divide(b.one_time, b.customers), 2) }} AS DECIMAL(18, 2)),
        CAST(NULL AS DECIMAL(18, 2)),
        CAST(NULL AS DECIMAL(18, 2)),
        b.one_time,
        CONCAT(b.one_time, ' of ', b.customers, ' customers (', CAST({{ round_to(100 * safe_divide(b.one_time, b.customers), 2) }} AS DECIMAL(18, 2)), ' %) have bought exactly once.'),
        CASE WHEN 100 * {{ safe_divide(b.one_time, b.customers) }} >= 50 THEN 'High' WHEN 100 * {{ safe_divide(b.one_time, b.customers) }} >= 25 THEN 'Medium' ELSE 'Low' END
    FROM buyers b
    WHERE b.customers > 0
    UNION ALL
    SELECT
        CASE WHEN m.best_rank = 1 THEN 'best_cohort_3m' ELSE 'worst_cohort_3m' END,
        'cohort',
        CONCAT(CASE WHEN m.best_rank = 1 THEN 'Best' ELSE 'Worst' END, ' cohort by 3-month retention: ', m.month_name, ' ', m.year),
        CAST(m.retention_pct AS DECIMAL(18, 2)),
        CAST(NULL AS DECIMAL(18, 2)),
        CAST(NULL AS DECIMAL(18, 2)),
        m.cohort_customers,
        CONCAT(m.retention_pct, ' % of the ', m.cohort_customers, ' customers who first bought in ', m.month_name, ' ', m.year, ' bought again in their month 3.'),
        CASE WHEN m.best_rank = 1 THEN 'Low' ELSE 'Medium' END
    FROM month_three m
    WHERE m.best_rank = 1 OR (m.worst_rank = 1 AND m.best_rank > 1)
    UNION ALL
    SELECT
        CONCAT('campaign_', LOWER(REPLACE(c.campaign, '-', '_'))),
        'campaign',
        CONCAT(c.campaign, ' campaign'),
        c.estimated_value,
        CAST(NULL AS DECIMAL(18, 2)),
        CAST(NULL AS DECIMAL(18, 2)),
        c.customers,
        CONCAT(c.customers, ' customers for ', c.campaign, ', estimated value ', c.estimated_value, '.'),
        CASE c.campaign WHEN 'Retention' THEN 'High' WHEN 'Win-Back' THEN 'Medium' ELSE 'Low' END
    FROM campaigns c
)

INSERT INTO gold.business_insights (
    insight_key, as_of_date, insight_type, title, metric_value, comparison_value, change_pct, metric_count, detail, priority
)
SELECT i.insight_key, a.as_of_date, i.insight_type, i.title, i.metric_value, i.comparison_value, i.change_pct, i.metric_count, i.detail, i.priority
FROM insights i
CROSS JOIN as_of a;
