-- reporting.customer_business_insights: the headline insights with their figures and priority.
SELECT
    insight_key, as_of_date, insight_type, title, metric_value, comparison_value, change_pct,
    metric_count, detail, priority
FROM gold.business_insights
