-- reporting.customer_360: the customer 360 profile as the dashboard and the report read it, one
-- row per customer. The columns are gold's; the view is the stable contract.
SELECT
    customer_id, as_of_date, customer_key, first_name, last_name, email, age, state, city, employment_status,
    card_type, credit_limit, account_open_date, source_segment, has_purchased, segment, segment_rule,
    lifetime_value, predicted_value_12m, purchases, first_purchase_date, last_purchase_date,
    average_order_value, mean_amount, median_amount, stddev_amount, min_amount, max_amount,
    coefficient_of_variation, spending_consistency, recency_days, frequency, monetary,
    recency_score, frequency_score, monetary_score, spend_last_90_days, spend_prior_90_days, spend_trend,
    churn_risk_score, churn_probability, is_high_churn_risk, campaign, campaign_priority, campaign_value,
    is_win_back_eligible, is_retention_eligible, is_cross_sell_eligible, is_loyalty_eligible
FROM gold.customer_360_profile
