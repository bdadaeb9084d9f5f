-- reporting.customer_churn_model: the churn model in use, one row: how it was made and how good it
-- is on its holdout (AUC, log loss, base rate), or why the heuristic scores instead.
SELECT
    model_version, method, trained_as_of, holdout_date, training_snapshots, label_days, train_rows,
    holdout_rows, train_base_rate, base_rate, holdout_auc, holdout_log_loss, train_auc, note
FROM gold.churn_model
WHERE term IN ('intercept', 'recency_weight')
