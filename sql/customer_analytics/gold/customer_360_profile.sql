-- gold.customer_360_profile: one row per customer (every current version of gold.dim_customer,
-- buyers or not), everything the marts know of it as of the as-of date: current attributes,
-- segment, lifetime and predicted value, purchase value statistics, recency / frequency /
-- monetary values with their quintile scores (5 = most recent, most frequent, highest value;
-- ties broken by customer id), churn risk, the campaign and each campaign's eligibility on its
-- own (the campaign is the first eligible one: Win-Back, Retention, Cross-Sell, Loyalty).
-- A customer who has not bought has no segment or value (has_purchased = 0); its churn score is
-- gold.churn_predictions' 'no_purchase' rule.
-- Refresh: full.

DELETE FROM gold.customer_360_profile;

WITH
as_of AS (
    SELECT as_of_date FROM silver.customer_as_of
),

buyers AS (
    SELECT
        s.customer_id,
        s.segment,
        s.segment_rule,
        s.days_since_last_purchase,
        s.is_top_ltv,
        s.spend_last_90_days,
        s.spend_prior_90_days,
        s.spend_trend,
        l.lifetime_value,
        l.predicted_value_12m,
        l.purchases,
        l.first_purchase_date,
        l.last_purchase_date,
        l.average_order_value,
        NTILE(5) OVER (ORDER BY s.days_since_last_purchase DESC, s.customer_id) AS recency_score,
        NTILE(5) OVER (ORDER BY l.purchases, s.customer_id) AS frequency_score,
        NTILE(5) OVER (ORDER BY l.lifetime_value, s.customer_id) AS monetary_score,
        CASE WHEN (s.segment = 'Lost' OR s.days_since_last_purchase > @active_days) AND s.is_top_ltv = 1 THEN 1 ELSE 0 END AS is_win_back_eligible,
        CASE WHEN s.segment = 'At Risk' OR (p.churn_risk_score >= @high_churn_score AND l.lifetime_value >= @retention_min_ltv) THEN 1 ELSE 0 END AS is_retention_eligible,
        CASE WHEN s.segment = 'Regular' AND s.spend_last_90_days > 0 AND s.spend_last_90_days >= s.spend_prior_90_days THEN 1 ELSE 0 END AS is_cross_sell_eligible,
        CASE WHEN s.segment = 'High Value' THEN 1 ELSE 0 END AS is_loyalty_eligible
    FROM gold.customer_segments s
    JOIN gold.metric_customer_ltv l ON l.customer_id = s.customer_id
    LEFT JOIN gold.churn_predictions p ON p.customer_id = s.customer_id
)

INSERT INTO gold.customer_360_profile (
    customer_id, as_of_date, customer_key, first_name, last_name, email, age, state, city, employment_status,
    card_type, credit_limit, account_open_date, source_segment, has_purchased, segment, segment_rule,
    lifetime_value, predicted_value_12m, purchases, first_purchase_date, last_purchase_date,
    average_order_value, mean_amount, median_amount, stddev_amount, min_amount, max_amount,
    coefficient_of_variation, spending_consistency, recency_days, frequency, monetary,
    recency_score, frequency_score, monetary_score, spend_last_90_days, spend_prior_90_days, spend_trend,
    churn_risk_score, churn_probability, is_high_churn_risk, campaign, campaign_priority, campaign_value,
    is_win_back_eligible, is_retention_eligible, is_cross_sell_eligible, is_loyalty_eligible
)
SELECT
    c.customer_id,
    a.as_of_date,
    c.customer_key,
    c.first_name,
    c.last_name,
    c.email,
    c.age,
    c.state,
    c.city,
    c.employment_status,
    c.card_type,
    c.credit_limit,
    c.account_open_date,
    c.customer_segment AS source_segment,
    CASE WHEN b.customer_id IS NULL THEN 0 ELSE 1 END AS has_purchased,
    b.segment,
    b.segment_rule,
    b.lifetime_value,
    b.predicted_value_12m,
    COALESCE(b.purchases, 0) AS purchases,
    b.first_purchase_date,
    b.last_purchase_date,
    b.average_order_value,
    v.mean_amount,
    v.median_amount,
    v.stddev_amount,
    v.min_amount,
    v.max_amount,
    v.coefficient_of_variation,
    v.spending_consistency,
    b.days_since_last_purchase AS recency_days,
    COALESCE(b.purchases, 0) AS frequency,
    b.lifetime_value AS monetary,
    b.recency_score,
    b.frequency_score,
    b.monetary_score,
    b.spend_last_90_days,
    b.spend_prior_90_days,
    b.spend_trend,
    p.churn_risk_score,
    p.churn_probability,
    CASE WHEN p.churn_risk_score >= @high_churn_score THEN 1 ELSE 0 END AS is_high_churn_risk,
    t.campaign,
    t.priority AS campaign_priority,
    t.estimated_value AS campaign_value,
    COALESCE(b.is_win_back_eligible, 0) AS is_win_back_eligible,
    COALESCE(b.is_retention_eligible, 0) AS is_retention_eligible,
    COALESCE(b.is_cross_sell_eligible, 0) AS is_cross_sell_eligible,
    COALESCE(b.is_loyalty_eligible, 0) AS is_loyalty_eligible
FROM gold.dim_customer c
CROSS JOIN as_of a
LEFT JOIN buyers b ON b.customer_id = c.customer_id
LEFT JOIN gold.churn_predictions p ON p.customer_id = c.customer_id
LEFT JOIN gold.metric_avg_transaction_value v ON v.customer_id = c.customer_id
LEFT JOIN gold.campaign_targets t ON t.customer_id = c.customer_id
WHERE c.is_current = 1;
