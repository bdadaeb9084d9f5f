-- gold.campaign_targets: at most one campaign per customer, the first that applies:
--   Win-Back    Lost, or no purchase for more than @active_days days, with high past value
--               (lifetime value in the top @high_value_top_pct %)
--               estimated value: a year of its past spend (lifetime value × 365 / tenure in
--               days, tenure at least a year)
--   Retention   At Risk, or a churn risk score of at least @high_churn_score with a lifetime
--               value of at least @retention_min_ltv
--               estimated value: the 12-month value at stake, expected purchases × average order
--               value × churn probability
--   Cross-Sell  Regular with growth potential: bought in the last 90 days, and spent at least as
--               much as in the prior 90
--               estimated value: one more average order
--   Loyalty     High Value
--               estimated value: its predicted 12-month value
-- priority: High from an estimated value of @campaign_high_value, Medium from
-- @campaign_medium_value, Low below.
-- Refresh: full.

DELETE FROM gold.campaign_targets;

WITH
customers AS (
    SELECT
        s.customer_id,
        s.as_of_date,
        s.segment,
        s.days_since_last_purchase,
        s.is_top_ltv,
        s.spend_last_90_days,
        s.spend_prior_90_days,
        s.churn_risk_score,
        l.lifetime_value,
        l.tenure_days,
        l.average_order_value,
        l.expected_purchases_12m,
        l.predicted_value_12m,
        p.churn_probability
    FROM gold.customer_segments s
    JOIN gold.metric_customer_ltv l ON l.customer_id = s.customer_id
    LEFT JOIN gold.churn_predictions p ON p.customer_id = s.customer_id
),

chosen AS (
    SELECT
        c.*,
        CASE
            WHEN (c.segment = 'Lost' OR c.days_since_last_purchase > @active_days) AND c.is_top_ltv = 1 THEN 'Win-Back'
            WHEN c.segment = 'At Risk' OR (c.churn_risk_score >= @high_churn_score AND c.lifetime_value >= @retention_min_ltv) THEN 'Retention'
            WHEN c.segment = 'Regular' AND c.spend_last_90_days > 0 AND c.spend_last_90_days >= c.spend_prior_90_days THEN 'Cross-Sell'
            WHEN c.segment = 'High Value' THEN 'Loyalty'
        END AS campaign
    FROM customers c
),

valued AS (
    SELECT
        ch.*,
        CAST({{ round_to(CASE ch.campaign
            WHEN 'Win-Back' THEN to_double(ch.lifetime_value) * 365 / (CASE WHEN ch.tenure_days < 365 THEN 365 ELSE ch.tenure_days END)
            WHEN 'Retention' THEN to_double(ch.expected_purchases_12m) * to_double(ch.average_order_value) * to_double(COALESCE(ch.churn_probability, 0))
            WHEN 'Cross-Sell' THEN to_double(ch.average_order_value)
            ELSE to_double(ch.predicted_value_12m)
        END, 2) }} AS DECIMAL(18, 2)) AS estimated_value
    FROM chosen ch
    WHERE ch.campaign IS NOT NULL
)

INSERT INTO gold.campaign_targets (
    customer_id, as_of_date, campaign, priority, reason, estimated_value, segment, churn_risk_score, lifetime_value
)
SELECT
    customer_id,
    as_of_date,
    campaign,
    CASE WHEN estimated_value >= @campaign_high_value THEN 'High' WHEN estimated_value >= @campaign_medium_value THEN 'Medium' ELSE 'Low' END AS priority,
    CASE campaign
        WHEN 'Win-Back' THEN CONCAT('no purchase for ', days_since_last_purchase, ' days; lifetime value ', lifetime_value, ' in the top ', @high_value_top_pct, '%')
        WHEN 'Retention' THEN CONCAT(segment, '; churn risk ', churn_risk_score, '; lifetime value ', lifetime_value)
        WHEN 'Cross-Sell' THEN CONCAT('Regular, spend up: ', spend_last_90_days, ' in the last 90 days against ', spend_prior_90_days, ' before')
        ELSE CONCAT('High Value; lifetime value ', lifetime_value)
    END AS reason,
    estimated_value,
    segment,
    churn_risk_score,
    lifetime_value
FROM valued;
