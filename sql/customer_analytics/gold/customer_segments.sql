-- gold.customer_segments: exactly one segment per customer who has bought, as of the as-of date,
-- with the rule that put it there. The first rule that holds wins:
--   Lost        no purchase for more than @lost_days days
--   New         first purchase at most @new_days days ago
--   High Value  lifetime value in the top @high_value_top_pct % (RANK by lifetime value, highest
--               first, rank × 100 <= customers × pct: of 10 customers the top 2, ties at the cut
--               all in) and a purchase at most @active_days days ago
--   At Risk     spend in the last 90 days under @at_risk_spend_ratio × the prior 90 days' spend,
--               or a churn risk score of at least @high_churn_score
--   Regular     the rest
-- "N days ago": the as-of date minus the purchase date (0 on the as-of date). The last 90 days
-- are as-of - 89 … as-of, the prior 90 as-of - 179 … as-of - 90; spend is net of refunds.
-- spend_trend: Up / Down / Flat comparing the two windows (No spend when both are 0).
-- Refresh: full.

DELETE FROM gold.customer_segments;

WITH
ranked AS (
    SELECT
        l.customer_id,
        l.as_of_date,
        l.lifetime_value,
        l.first_purchase_date,
        l.last_purchase_date,
        {{ days_between(l.last_purchase_date, l.as_of_date) }} AS days_since_last_purchase,
        {{ days_between(l.first_purchase_date, l.as_of_date) }} AS days_since_first_purchase,
        RANK() OVER (ORDER BY l.lifetime_value DESC) AS ltv_rank,
        COUNT(*) OVER () AS customers,
        COALESCE(f.spend_last_90, 0) AS spend_last_90_days,
        COALESCE(f.spend_prior_90, 0) AS spend_prior_90_days,
        p.churn_risk_score
    FROM gold.metric_customer_ltv l
    LEFT JOIN silver.customer_features f
        ON f.customer_id = l.customer_id
       AND f.snapshot_role = 'score'
    LEFT JOIN gold.churn_predictions p
        ON p.customer_id = l.customer_id
),

flagged AS (
    SELECT
        r.*,
        CASE WHEN r.ltv_rank * 100 <= r.customers * @high_value_top_pct THEN 1 ELSE 0 END AS is_top_ltv,
        CASE WHEN r.spend_last_90_days < @at_risk_spend_ratio * r.spend_prior_90_days THEN 1 ELSE 0 END AS is_spend_dropping,
        CASE WHEN r.churn_risk_score >= @high_churn_score THEN 1 ELSE 0 END AS is_high_churn_risk
    FROM ranked r
)

INSERT INTO gold.customer_segments (
    customer_id, as_of_date, segment, segment_rule, days_since_last_purchase, days_since_first_purchase,
    lifetime_value, ltv_rank, is_top_ltv, spend_last_90_days, spend_prior_90_days, spend_trend,
    spend_change_pct, churn_risk_score
)
SELECT
    customer_id,
    as_of_date,
    CASE
        WHEN days_since_last_purchase > @lost_days THEN 'Lost'
        WHEN days_since_first_purchase <= @new_days THEN 'New'
        WHEN is_top_ltv = 1 AND days_since_last_purchase <= @active_days THEN 'High Value'
        WHEN is_spend_dropping = 1 OR is_high_churn_risk = 1 THEN 'At Risk'
        ELSE 'Regular'
    END AS segment,
    CASE
        WHEN days_since_last_purchase > @lost_days
            THEN CONCAT('no purchase for ', days_since_last_purchase, ' days (more than ', @lost_days, ')')
        WHEN days_since_first_purchase <= @new_days
            THEN CONCAT('first purchase ', days_since_first_purchase, ' days ago (at most ', @new_days, ')')
        WHEN is_top_ltv = 1 AND days_since_last_purchase <= @active_days
            THEN CONCAT('lifetime value rank ', ltv_rank, ' of ', customers, ' (top ', @high_value_top_pct, '%), last purchase ', days_since_last_purchase, ' days ago')
        WHEN is_spend_dropping = 1 AND is_high_churn_risk = 1
            THEN CONCAT('spend in the last 90 days under ', CAST({{ round_to(@at_risk_spend_ratio * 100, 0) }} AS INT), '% of the prior 90 days, and churn risk ', churn_risk_score)
        WHEN is_spend_dropping = 1
            THEN CONCAT('spend in the last 90 days under ', CAST({{ round_to(@at_risk_spend_ratio * 100, 0) }} AS INT), '% of the prior 90 days')
        WHEN is_high_churn_risk = 1
            THEN CONCAT('churn risk ', churn_risk_score, ' (at least ', @high_churn_score, ')')
        ELSE 'none of the rules above'
    END AS segment_rule,
    days_since_last_purchase,
    days_since_first_purchase,
    lifetime_value,
    ltv_rank,
    is_top_ltv,
    spend_last_90_days,
    spend_prior_90_days,
    CASE
        WHEN spend_last_90_days = 0 AND spend_prior_90_days = 0 THEN 'No spend'
        WHEN spend_last_90_days > spend_prior_90_days THEN 'Up'
        WHEN spend_last_90_days < spend_prior_90_days THEN 'Down'
        ELSE 'Flat'
    END AS spend_trend,
    CASE
        WHEN spend_prior_90_days > 0
        THEN CAST({{ round_to(100 * safe_divide(spend_last_90_days - spend_prior_90_days, spend_prior_90_days), 2) }} AS DECIMAL(18, 2))
    END AS spend_change_pct,
    churn_risk_score
FROM flagged;
