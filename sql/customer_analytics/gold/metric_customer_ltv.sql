-- gold.metric_customer_ltv: one row per customer who has bought, as of the as-of date.
--   lifetime_value            approved spend, net of refunds (declined never count)
--   purchases                 approved transactions with a positive amount
--   tenure_days               days from the first purchase to the as-of date
--   avg_spend_per_active_day  lifetime value / days with a purchase
--   average_order_value       purchase amounts / purchases
--   predicted_value_12m       expected purchases in 12 months × average order value × probability of
--                             staying 12 months, with
--                               expected purchases = purchases / observed days × 365, observed days
--                                 = tenure + 1, at least @min_observed_days (a week-old customer's
--                                 rate is not its yearly one)
--                               probability of staying 12 months = (1 - p)^(365 / @churn_label_days),
--                                 p the churn probability over the model's label window
--                                 (gold.churn_predictions), the window taken as repeating
-- Refresh: full.

DELETE FROM gold.metric_customer_ltv;

WITH
as_of AS (
    SELECT as_of_date FROM silver.customer_as_of
),

lifetime AS (
    SELECT
        customer_id,
        SUM(spend) AS lifetime_value,
        SUM(purchases) AS purchases,
        SUM(purchase_days) AS purchase_days,
        SUM(purchase_amount) AS purchase_amount,
        SUM(refund_amount) AS refund_amount,
        SUM(declined_count) AS declined_count,
        MIN(first_purchase_date) AS first_purchase_date,
        MAX(last_purchase_date) AS last_purchase_date
    FROM silver.customer_monthly
    GROUP BY customer_id
),

measured AS (
    SELECT
        l.*,
        a.as_of_date,
        {{ days_between(l.first_purchase_date, a.as_of_date) }} AS tenure_days,
        {{ safe_divide(l.purchase_amount, l.purchases) }} AS average_order_value,
        p.churn_probability,
        p.method AS churn_method
    FROM lifetime l
    CROSS JOIN as_of a
    LEFT JOIN gold.churn_predictions p ON p.customer_id = l.customer_id
    WHERE l.purchases > 0
),

predicted AS (
    SELECT
        m.*,
        {{ safe_divide(m.purchases, CASE WHEN m.tenure_days + 1 < @min_observed_days THEN @min_observed_days ELSE m.tenure_days + 1 END) }} * 365 AS expected_purchases_12m,
        POWER(1.0 - {{ to_double(COALESCE(m.churn_probability, 0)) }}, {{ safe_divide(365, @churn_label_days) }}) AS stay_probability_12m
    FROM measured m
)

INSERT INTO gold.metric_customer_ltv (
    customer_id, as_of_date, lifetime_value, purchases, purchase_days, refund_amount, declined_count,
    first_purchase_date, last_purchase_date, tenure_days, avg_spend_per_active_day, average_order_value,
    expected_purchases_12m, stay_probability_12m, predicted_value_12m, prediction_method
)
SELECT
    customer_id,
    as_of_date,
    lifetime_value,
    purchases,
    purchase_days,
    refund_amount,
    declined_count,
    first_purchase_date,
    last_purchase_date,
    tenure_days,
    CAST({{ round_to(safe_divide(lifetime_value, purchase_days), 2) }} AS DECIMAL(18, 2)) AS avg_spend_per_active_day,
    CAST({{ round_to(average_order_value, 2) }} AS DECIMAL(18, 2)) AS average_order_value,
    CAST({{ round_to(expected_purchases_12m, 4) }} AS DECIMAL(18, 4)) AS expected_purchases_12m,
    CAST({{ round_to(stay_probability_12m, 6) }} AS DECIMAL(9, 6)) AS stay_probability_12m,
    CAST({{ round_to(expected_purchases_12m * average_order_value * stay_probability_12m, 2) }} AS DECIMAL(18, 2)) AS predicted_value_12m,
    CONCAT('expected purchases x average order value x (1 - churn probability)^(365/', @churn_label_days, '); churn probability: ', COALESCE(churn_method, 'none')) AS prediction_method
FROM predicted;
