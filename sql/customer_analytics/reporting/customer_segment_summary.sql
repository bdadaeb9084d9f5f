-- reporting.customer_segment_summary: per segment, as of the as-of date: customers, their share,
-- lifetime value in all and on average, and the average churn risk score.
SELECT
    s.as_of_date,
    s.segment,
    CAST(COUNT(*) AS INT) AS customers,
    CAST({{ round_to(100 * safe_divide(COUNT(*), MAX(t.customers)), 2) }} AS DECIMAL(5, 2)) AS share_pct,
    CAST(SUM(s.lifetime_value) AS DECIMAL(18, 2)) AS lifetime_value,
    CAST({{ round_to(safe_divide(SUM(s.lifetime_value), COUNT(*)), 2) }} AS DECIMAL(18, 2)) AS average_lifetime_value,
    CAST({{ round_to(AVG(to_double(s.churn_risk_score)), 1) }} AS DECIMAL(5, 1)) AS average_churn_risk_score
FROM gold.customer_segments s
CROSS JOIN (SELECT COUNT(*) AS customers FROM gold.customer_segments) t
GROUP BY s.as_of_date, s.segment
