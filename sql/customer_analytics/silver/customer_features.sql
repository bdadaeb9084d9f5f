-- silver.customer_features: what the churn model knows of a customer on a snapshot date
-- (silver.churn_snapshots), one definition for training, holdout and scoring. On the score
-- snapshot (the as-of date) every customer who has bought; on the others the customers with a
-- purchase in the 365 days before (the ones that can still churn), with the label: churned = 1
-- when they made no purchase in the @churn_label_days after the snapshot.
-- Windows count back from the snapshot date d: the last 90 days are d-89 … d, the prior 90
-- d-179 … d-90, the last 365 d-364 … d. Spend is approved amounts net of refunds.
-- The model's inputs (x_*) are computed here too, so training and scoring cannot differ:
-- logarithms tame the heavy tails; recency is capped at 366 days (beyond a year, all alike).
-- Refresh: by snapshot date, @date_from to @date_to; rows of snapshots no longer wanted go.

DELETE FROM silver.customer_features
WHERE snapshot_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE);

DELETE FROM silver.customer_features
WHERE snapshot_date NOT IN (SELECT snapshot_date FROM silver.churn_snapshots);

WITH
snapshots AS (
    SELECT snapshot_date, snapshot_role, label_end_date
    FROM silver.churn_snapshots
    WHERE snapshot_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
),

-- approved transactions from 365 days before each snapshot to the end of its label window
windowed AS (
    SELECT s.snapshot_date, f.customer_id, f.transaction_date, f.spend_amount, f.amount, f.is_purchase
    FROM snapshots s
    JOIN gold.fct_transactions f
        ON f.transaction_date BETWEEN {{ add_days(s.snapshot_date, -364) }} AND COALESCE(s.label_end_date, s.snapshot_date)
    WHERE f.is_approved = 1
),

window_figures AS (
    SELECT
        snapshot_date,
        customer_id,
        MAX(CASE WHEN is_purchase = 1 AND transaction_date <= snapshot_date THEN transaction_date END) AS last_purchase_in_window,
        SUM(CASE WHEN is_purchase = 1 AND transaction_date <= snapshot_date THEN 1 ELSE 0 END) AS purchases_365,
        SUM(CASE WHEN transaction_date <= snapshot_date THEN spend_amount ELSE 0 END) AS spend_365,
        SUM(CASE WHEN is_purchase = 1 AND transaction_date <= snapshot_date THEN amount ELSE 0 END) AS purchase_amount_365,
        SUM(CASE WHEN transaction_date > {{ add_days(snapshot_date, -90) }} AND transaction_date <= snapshot_date THEN spend_amount ELSE 0 END) AS spend_last_90,
        SUM(CASE WHEN transaction_date > {{ add_days(snapshot_date, -180) }} AND transaction_date <= {{ add_days(snapshot_date, -90) }} THEN spend_amount ELSE 0 END) AS spend_prior_90,
        SUM(CASE WHEN is_purchase = 1 AND transaction_date > snapshot_date THEN 1 ELSE 0 END) AS purchases_after
    FROM windowed
    GROUP BY snapshot_date, customer_id
),

-- first purchase, and the last one before the window, from the monthly figures
history AS (
    SELECT
        s.snapshot_date,
        m.customer_id,
        MIN(m.first_purchase_date) AS first_purchase_date,
        MAX(CASE WHEN m.last_purchase_date <= s.snapshot_date THEN m.last_purchase_date END) AS last_purchase_before
    FROM snapshots s
    JOIN silver.customer_monthly m
        ON m.first_purchase_date <= s.snapshot_date
    GROUP BY s.snapshot_date, m.customer_id
),

figures AS (
    SELECT
        h.snapshot_date,
        s.snapshot_role,
        h.customer_id,
        h.first_purchase_date,
        COALESCE(w.last_purchase_in_window, h.last_purchase_before) AS last_purchase_date,
        COALESCE(w.purchases_365, 0) AS purchases_365,
        COALESCE(w.spend_365, 0) AS spend_365,
        COALESCE(w.purchase_amount_365, 0) AS purchase_amount_365,
        COALESCE(w.spend_last_90, 0) AS spend_last_90,
        COALESCE(w.spend_prior_90, 0) AS spend_prior_90,
        CASE WHEN s.snapshot_role = 'score' THEN NULL WHEN COALESCE(w.purchases_after, 0) = 0 THEN 1 ELSE 0 END AS churned
    FROM history h
    JOIN snapshots s ON s.snapshot_date = h.snapshot_date
    LEFT JOIN window_figures w
        ON w.snapshot_date = h.snapshot_date
       AND w.customer_id = h.customer_id
    WHERE s.snapshot_role = 'score' OR COALESCE(w.purchases_365, 0) > 0
),

described AS (
    SELECT
        g.*,
        {{ days_between(g.last_purchase_date, g.snapshot_date) }} AS days_since_last_purchase,
        {{ days_between(g.first_purchase_date, g.snapshot_date) }} AS tenure_days,
        CASE WHEN g.purchases_365 > 0 THEN CAST({{ round_to(safe_divide(g.purchase_amount_365, g.purchases_365), 2) }} AS DECIMAL(18, 2)) ELSE 0 END AS aov_365,
        -- the customer's attributes as known on the snapshot date
        c.age,
        c.credit_limit
    FROM figures g
    LEFT JOIN gold.dim_customer c
        ON c.customer_id = g.customer_id
       AND g.snapshot_date >= c.valid_from
       AND g.snapshot_date < c.valid_to
)

INSERT INTO silver.customer_features (
    snapshot_date, customer_id, snapshot_role, first_purchase_date, last_purchase_date,
    days_since_last_purchase, tenure_days, purchases_365, spend_365, spend_last_90, spend_prior_90,
    aov_365, age, credit_limit, churned,
    x_recency, x_frequency, x_monetary, x_trend, x_tenure, x_aov, x_age, x_credit_limit
)
SELECT
    snapshot_date,
    customer_id,
    snapshot_role,
    first_purchase_date,
    last_purchase_date,
    days_since_last_purchase,
    tenure_days,
    purchases_365,
    spend_365,
    spend_last_90,
    spend_prior_90,
    aov_365,
    age,
    credit_limit,
    churned,
    CAST({{ round_to(ln(1 + CASE WHEN days_since_last_purchase > 366 THEN 366 ELSE days_since_last_purchase END), 6) }} AS DECIMAL(18, 6)) AS x_recency,
    CAST({{ round_to(ln(1 + purchases_365), 6) }} AS DECIMAL(18, 6)) AS x_frequency,
    CAST({{ round_to(ln(1 + to_double(CASE WHEN spend_365 > 0 THEN spend_365 ELSE 0 END)), 6) }} AS DECIMAL(18, 6)) AS x_monetary,
    CAST({{ round_to(ln(1 + to_double(CASE WHEN spend_last_90 > 0 THEN spend_last_90 ELSE 0 END))
       - ln(1 + to_double(CASE WHEN spend_prior_90 > 0 THEN spend_prior_90 ELSE 0 END)), 6) }} AS DECIMAL(18, 6)) AS x_trend,
    CAST({{ round_to(ln(1 + tenure_days), 6) }} AS DECIMAL(18, 6)) AS x_tenure,
    CAST({{ round_to(ln(1 + to_double(aov_365)), 6) }} AS DECIMAL(18, 6)) AS x_aov,
    CAST(age AS DECIMAL(18, 6)) AS x_age,
    CAST({{ round_to(ln(1 + to_double(credit_limit)), 6) }} AS DECIMAL(18, 6)) AS x_credit_limit
FROM described;
