-- gold.churn_predictions: the churn risk of every customer (every current gold.dim_customer row),
-- as of the as-of date, scored in SQL from the coefficients in gold.churn_model (the same on both
-- engines). Customers who have bought are scored by the model's method:
--   logistic_regression  p = 1 / (1 + e^-z), z = intercept + Σ b_i (x_i - mean_i) / sd_i over the
--                        x_* inputs of silver.customer_features (a missing attribute is the mean);
--                        z clamped to ±30 (EXP overflows beyond ~709 on SQL Server)
--   heuristic            p = 0.7 × min(days since last purchase / @lost_days, 1)
--                          + 0.3 × (1 - min(purchases in the last 365 days / 12, 1))
-- A customer who has not bought by the as-of date is outside the model's population (it learns
-- from buyers) and is scored by one rule, method 'no_purchase':
--   no_purchase          p = 0.3 + 0.7 × min(days since account_open_date / @lost_days, 1)
--                        (the heuristic with no purchase in 365 days: a new account 0.3, one a
--                        year old without a purchase 1.0; an unknown opening date counts as a year,
--                        an opening after the as-of date as 0 days); days_since_last_purchase NULL
-- churn_risk_score = round(100 p), 0 … 100; high risk from @high_churn_score.
-- Refresh: full.

DELETE FROM gold.churn_predictions;

WITH
model AS (
    SELECT
        MAX(model_version) AS model_version,
        MAX(method) AS method,
        MAX(CASE WHEN term = 'intercept' THEN coefficient END) AS b0,
        MAX(CASE WHEN term = 'recency_weight' THEN coefficient END) AS w_recency,
        MAX(CASE WHEN term = 'frequency_weight' THEN coefficient END) AS w_frequency,
        MAX(CASE WHEN term = 'purchases_for_full_frequency' THEN coefficient END) AS full_frequency,
        MAX(CASE WHEN term = 'recency' THEN coefficient END) AS b_recency,
        MAX(CASE WHEN term = 'recency' THEN feature_mean END) AS m_recency,
        MAX(CASE WHEN term = 'recency' THEN feature_sd END) AS s_recency,
        MAX(CASE WHEN term = 'frequency' THEN coefficient END) AS b_frequency,
        MAX(CASE WHEN term = 'frequency' THEN feature_mean END) AS m_frequency,
        MAX(CASE WHEN term = 'frequency' THEN feature_sd END) AS s_frequency,
        MAX(CASE WHEN term = 'monetary' THEN coefficient END) AS b_monetary,
        MAX(CASE WHEN term = 'monetary' THEN feature_mean END) AS m_monetary,
        MAX(CASE WHEN term = 'monetary' THEN feature_sd END) AS s_monetary,
        MAX(CASE WHEN term = 'trend' THEN coefficient END) AS b_trend,
        MAX(CASE WHEN term = 'trend' THEN feature_mean END) AS m_trend,
        MAX(CASE WHEN term = 'trend' THEN feature_sd END) AS s_trend,
        MAX(CASE WHEN term = 'tenure' THEN coefficient END) AS b_tenure,
        MAX(CASE WHEN term = 'tenure' THEN feature_mean END) AS m_tenure,
        MAX(CASE WHEN term = 'tenure' THEN feature_sd END) AS s_tenure,
        MAX(CASE WHEN term = 'aov' THEN coefficient END) AS b_aov,
        MAX(CASE WHEN term = 'aov' THEN feature_mean END) AS m_aov,
        MAX(CASE WHEN term = 'aov' THEN feature_sd END) AS s_aov,
        MAX(CASE WHEN term = 'age' THEN coefficient END) AS b_age,
        MAX(CASE WHEN term = 'age' THEN feature_mean END) AS m_age,
        MAX(CASE WHEN term = 'age' THEN feature_sd END) AS s_age,
        MAX(CASE WHEN term = 'credit_limit' THEN coefficient END) AS b_credit_limit,
        MAX(CASE WHEN term = 'credit_limit' THEN feature_mean END) AS m_credit_limit,
        MAX(CASE WHEN term = 'credit_limit' THEN feature_sd END) AS s_credit_limit
    FROM gold.churn_model
),

scored AS (
    SELECT
        f.customer_id,
        f.snapshot_date,
        f.days_since_last_purchase,
        f.purchases_365,
        m.model_version,
        m.method,
        {{ to_double(m.b0) }}
            + {{ to_double(m.b_recency) }} * ({{ to_double(COALESCE(f.x_recency, m.m_recency)) }} - {{ to_double(m.m_recency) }}) / COALESCE(NULLIF({{ to_double(m.s_recency) }}, 0), 1)
            + {{ to_double(m.b_frequency) }} * ({{ to_double(COALESCE(f.x_frequency, m.m_frequency)) }} - {{ to_double(m.m_frequency) }}) / COALESCE(NULLIF({{ to_double(m.s_frequency) }}, 0), 1)
            + {{ to_double(m.b_monetary) }} * ({{ to_double(COALESCE(f.x_monetary, m.m_monetary)) }} - {{ to_double(m.m_monetary) }}) / COALESCE(NULLIF({{ to_double(m.s_monetary) }}, 0), 1)
            + {{ to_double(m.b_trend) }} * ({{ to_double(COALESCE(f.x_trend, m.m_trend)) }} - {{ to_double(m.m_trend) }}) / COALESCE(NULLIF({{ to_double(m.s_trend) }}, 0), 1)
            + {{ to_double(m.b_tenure) }} * ({{ to_double(COALESCE(f.x_tenure, m.m_tenure)) }} - {{ to_double(m.m_tenure) }}) / COALESCE(NULLIF({{ to_double(m.s_tenure) }}, 0), 1)
            + {{ to_double(m.b_aov) }} * ({{ to_double(COALESCE(f.x_aov, m.m_aov)) }} - {{ to_double(m.m_aov) }}) / COALESCE(NULLIF({{ to_double(m.s_aov) }}, 0), 1)
            + {{ to_double(m.b_age) }} * ({{ to_double(COALESCE(f.x_age, m.m_age)) }} - {{ to_double(m.m_age) }}) / COALESCE(NULLIF({{ to_double(m.s_age) }}, 0), 1)
            + {{ to_double(m.b_credit_limit) }} * ({{ to_double(COALESCE(f.x_credit_limit, m.m_credit_limit)) }} - {{ to_double(m.m_credit_limit) }}) / COALESCE(NULLIF({{ to_double(m.s_credit_limit) }}, 0), 1)
            AS z,
        {{ to_double(m.w_recency) }} * CASE WHEN f.days_since_last_purchase >= @lost_days THEN 1.0 ELSE {{ safe_divide(f.days_since_last_purchase, @lost_days) }} END
            + {{ to_double(m.w_frequency) }} * (1.0 - CASE WHEN f.purchases_365 >= m.full_frequency THEN 1.0 ELSE {{ safe_divide(f.purchases_365, m.full_frequency) }} END)
            AS heuristic_probability
    FROM silver.customer_features f
    CROSS JOIN model m
    WHERE f.snapshot_role = 'score'
),

never_bought AS (
    SELECT
        c.customer_id,
        a.as_of_date,
        {{ days_between(c.account_open_date, a.as_of_date) }} AS days_open
    FROM gold.dim_customer c
    CROSS JOIN silver.customer_as_of a
    WHERE c.is_current = 1
      AND NOT EXISTS (
          SELECT 1 FROM silver.customer_features f
          WHERE f.customer_id = c.customer_id AND f.snapshot_role = 'score'
      )
),

probabilities AS (
    SELECT
        s.customer_id,
        s.snapshot_date,
        s.days_since_last_purchase,
        s.purchases_365,
        s.model_version,
        s.method,
        CASE
            WHEN s.method = 'logistic_regression'
            THEN 1.0 / (1.0 + EXP(0 - CASE WHEN s.z > 30 THEN 30 WHEN s.z < -30 THEN -30 ELSE s.z END))
            ELSE s.heuristic_probability
        END AS probability
    FROM scored s
    UNION ALL
    SELECT
        n.customer_id,
        n.as_of_date AS snapshot_date,
        NULL AS days_since_last_purchase,
        0 AS purchases_365,
        m.model_version,
        'no_purchase' AS method,
        0.3 + 0.7 * CASE
            WHEN n.days_open IS NULL OR n.days_open >= @lost_days THEN 1.0
            WHEN n.days_open <= 0 THEN 0.0
            ELSE {{ safe_divide(n.days_open, @lost_days) }}
        END AS probability
    FROM never_bought n
    CROSS JOIN model m
)

INSERT INTO gold.churn_predictions (
    customer_id, prediction_date, model_version, method, churn_probability, churn_risk_score, is_high_risk,
    days_since_last_purchase, purchases_365
)
SELECT
    customer_id,
    snapshot_date AS prediction_date,
    model_version,
    method,
    CAST({{ round_to(probability, 6) }} AS DECIMAL(9, 6)) AS churn_probability,
    CAST({{ round_to(100 * probability, 0) }} AS INT) AS churn_risk_score,
    CASE WHEN CAST({{ round_to(100 * probability, 0) }} AS INT) >= @high_churn_score THEN 1 ELSE 0 END AS is_high_risk,
    days_since_last_purchase,
    purchases_365
FROM probabilities;
