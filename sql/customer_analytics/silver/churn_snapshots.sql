-- silver.churn_snapshots: the dates the churn model looks at customers from.
--   score    the as-of date: the churn risk scored for every customer who has bought
--   holdout  the latest month end whose label window (@churn_label_days after it) ends by the
--            as-of date: the model is judged there (a time-based holdout)
--   train    up to @training_snapshots month ends before it, each whole label window before the
--            holdout date (no training label sees the holdout's period), each with at least 180
--            days of history behind it (the trend feature compares two 90-day windows)
-- Month ends keep the training snapshots still while the as-of date moves day by day, so their
-- features are computed once. No holdout or no training snapshot: the history is too short and
-- the churn risk is scored by the heuristic (see gold.churn_model).
-- Refresh: full (a few rows).

DELETE FROM silver.churn_snapshots;

WITH
as_of AS (
    SELECT as_of_date, first_transaction_date FROM silver.customer_as_of
),

month_ends AS (
    SELECT d.calendar_date AS snapshot_date
    FROM gold.dim_date d
    CROSS JOIN as_of a
    WHERE {{ month_start(add_days(d.calendar_date, 1)) }} = {{ add_days(d.calendar_date, 1) }}
      AND d.calendar_date >= {{ add_days(a.first_transaction_date, 180) }}
      AND d.calendar_date <= {{ add_days(a.as_of_date, 0 - @churn_label_days) }}
),

holdout AS (
    SELECT MAX(snapshot_date) AS snapshot_date FROM month_ends
),

train AS (
    SELECT m.snapshot_date, ROW_NUMBER() OVER (ORDER BY m.snapshot_date DESC) AS recency_rank
    FROM month_ends m
    CROSS JOIN holdout h
    WHERE m.snapshot_date <= {{ add_days(h.snapshot_date, 0 - @churn_label_days) }}
)

INSERT INTO silver.churn_snapshots (snapshot_date, snapshot_role, as_of_date, label_end_date)
SELECT a.as_of_date, 'score', a.as_of_date, CAST(NULL AS DATE)
FROM as_of a
UNION ALL
SELECT h.snapshot_date, 'holdout', a.as_of_date, {{ add_days(h.snapshot_date, @churn_label_days) }}
FROM holdout h
CROSS JOIN as_of a
WHERE h.snapshot_date IS NOT NULL
  AND EXISTS (SELECT 1 FROM train)
UNION ALL
SELECT t.snapshot_date, 'train', a.as_of_date, {{ add_days(t.snapshot_date, @churn_label_days) }}
FROM train t
CROSS JOIN as_of a
WHERE t.recency_rank <= @training_snapshots;
