/**
 * Customer analytics models: customers, transactions and sales files → a star schema
 * (`gold.dim_customer` SCD type 2, `gold.dim_date`, `gold.dim_merchant_category`,
 * `gold.fct_transactions`) and the customer marts. SQL in `sql/customer_analytics/`.
 */
import { addDays, type DateRange } from '../../core/dates.js';
import { test } from '../../quality/dataTests.js';
import { codeModel, OPEN_END, sqlModel, tableOf, unionOfChanges, type Changes } from '../../transform/models.js';
import type { Settings } from '../../core/settings.js';
import { bigint, bool, col, date, decimal, int, MAX_LANDING_PATH_CHARS, relaxed, req, string, timestamp } from '../../warehouse/catalog.js';
import { buildChurnModel, CHURN_MODEL_COLUMNS } from './churn/model.js';
import { buildDateDimension } from './dimDate.js';

/** The customer attributes, as every version carries them (text lengths: twice the contract's, in UTF-16 units). */
const customerAttributes = [
  col('first_name', string(200)),
  col('last_name', string(200)),
  col('email', string(508)),
  col('age', int),
  col('state', string(200)),
  col('city', string(200)),
  col('employment_status', string(100)),
  col('card_type', string(100)),
  col('credit_limit', decimal(12, 2)),
  col('account_open_date', date),
  col('customer_segment', string(100)),
  col('decline_type', string(100)),
];

export const customerVersions = sqlModel({
  name: 'silver.customer_versions',
  file: 'silver/customer_versions.sql',
  description: 'Customer attributes from every customers file as versions: a version starts on the day its attributes first differ from the previous ones.',
  key: ['customer_id', 'valid_from'],
  columns: [req('customer_id', string(100)), req('valid_from', date), ...customerAttributes, req('updated_at', timestamp), req('_source_file', string(MAX_LANDING_PATH_CHARS)), req('_row_number', bigint)],
  refresh: 'full',
  tests: [test.acceptedRange('age', { min: 0, max: 130 }), test.acceptedRange('credit_limit', { min: 0 })],
});

export const customerKeys = sqlModel({
  name: 'silver.customer_keys',
  file: 'silver/customer_keys.sql',
  description: 'The surrogate key of every customer version ever seen; rows are only added, so a key never changes.',
  key: ['customer_id', 'valid_from'],
  columns: [req('customer_id', string(100)), req('valid_from', date), req('customer_key', int)],
  refresh: 'full',
  tests: [test.unique('customer_key')],
});

export const dimCustomer = sqlModel({
  name: 'gold.dim_customer',
  file: 'gold/dim_customer.sql',
  description: 'Customers as SCD type 2: one row per version (valid_from inclusive, valid_to exclusive); a minimal version from 1900-01-01 stands for "not known yet".',
  key: ['customer_key'],
  columns: [
    req('customer_key', int),
    req('customer_id', string(100)),
    req('valid_from', date),
    req('valid_to', date),
    req('is_current', bool),
    req('is_minimal', bool),
    ...customerAttributes,
    col('updated_at', timestamp),
  ],
  refresh: 'full',
  tests: [
    test.unique(['customer_id', 'valid_from']),
    test.unique('customer_id', { where: 'is_current = 1' }), // one current version per customer
    test.expression('versions are non-empty intervals', 'valid_from < valid_to'),
    test.expression('every customer has its minimal version first', "is_minimal = 1 OR valid_from > CAST('1900-01-01' AS DATE)"),
  ],
});

export const dimDate = codeModel({
  name: 'gold.dim_date',
  description: 'One row per day, whole years covering the customer data: ISO week, month, quarter, year, day of week, weekend flag.',
  key: ['date_key'],
  columns: [
    req('date_key', int),
    req('calendar_date', date),
    req('year', int),
    req('quarter', int),
    req('month', int),
    req('month_name', string(16)),
    req('month_start', date),
    req('iso_year', int),
    req('iso_week', int),
    req('week_start', date),
    req('day_of_month', int),
    req('day_of_week', int),
    req('day_name', string(16)),
    req('is_weekend', bool),
  ],
  refresh: 'full',
  reads: ['bronze.transactions', 'bronze.sales'],
  build: buildDateDimension,
  tests: [test.unique('calendar_date'), test.acceptedRange('iso_week', { min: 1, max: 53 }), test.acceptedRange('day_of_week', { min: 1, max: 7 })],
});

export const dimMerchantCategory = sqlModel({
  name: 'gold.dim_merchant_category',
  file: 'gold/dim_merchant_category.sql',
  description: 'One row per merchant category, and "(unknown)" (key 0) for transactions without one and every sales row; rows are only added.',
  key: ['merchant_category_key'],
  columns: [req('merchant_category_key', int), req('merchant_category', string(200)), req('is_unknown', bool)],
  refresh: 'full',
  tests: [test.unique('merchant_category')],
});

/** Date-range facts rebuild the dates their sources changed; a customer version from D re-points every transaction from D on. */
function factDates(changes: Changes): DateRange | undefined {
  let range: DateRange | undefined;
  const widen = (r: DateRange | undefined) => {
    if (!r) return;
    range = range ? { from: r.from < range.from ? r.from : range.from, to: r.to > range.to ? r.to : range.to } : r;
  };
  widen(changes.get('bronze.transactions'));
  widen(changes.get('bronze.sales'));
  const customers = changes.get('gold.dim_customer');
  if (customers) widen({ from: customers.from, to: OPEN_END });
  return range;
}

export const fctTransactions = sqlModel({
  name: 'gold.fct_transactions',
  file: 'gold/fct_transactions.sql',
  description: 'One row per transaction (transactions files) or order (sales files), keyed to the customer version valid on its date, the date and the merchant category; declined kept, out of spend.',
  key: ['transaction_date', 'source_system', 'transaction_id'], // date first: rebuilt by date range
  storage: 'columnstore', // on SQL Server, like the gold facts named fact_*: read by date range and aggregated
  columns: [
    req('transaction_date', date),
    req('source_system', string(16)),
    req('transaction_id', string(128)),
    col('transaction_at', timestamp),
    col('date_key', int),
    col('customer_key', int),
    req('customer_id', string(100)),
    col('merchant_category_key', int),
    col('merchant_name', string(400)),
    col('channel', string(16)),
    req('status', string(16)),
    req('amount', decimal(12, 2)),
    req('spend_amount', decimal(12, 2)),
    req('is_approved', bool),
    req('is_purchase', bool),
    req('is_refund', bool),
    req('_source_file', string(MAX_LANDING_PATH_CHARS)),
    req('_row_number', bigint),
  ],
  refresh: 'date_range',
  dateColumn: 'transaction_date',
  affectedDates: factDates,
  tests: [
    // a missing dimension member would be a NULL key: it fails here, no row is dropped
    test.notNull(['date_key', 'customer_key', 'merchant_category_key']),
    test.relationships('customer_key', tableOf(dimCustomer), 'customer_key'),
    test.relationships('merchant_category_key', tableOf(dimMerchantCategory), 'merchant_category_key'),
    test.acceptedValues('status', ['approved', 'declined']),
    test.acceptedValues('source_system', ['transactions', 'sales']),
    test.expression('declined transactions are out of spend', "spend_amount = CASE WHEN status = 'approved' THEN amount ELSE 0 END"),
  ],
});


// ---- as of a date --------------------------------------------------------------------------

export const customerAsOf = sqlModel({
  name: 'silver.customer_as_of',
  file: 'silver/customer_as_of.sql',
  description: 'The date every customer mart is computed as of: ANALYTICS_AS_OF_DATE, or the data\'s last transaction date.',
  key: ['as_of_date'],
  columns: [req('as_of_date', date), req('as_of_source', string(40)), req('first_transaction_date', date), req('last_transaction_date', date), req('history_days', int)],
  refresh: 'full',
  tests: [test.expression('history is not negative', 'history_days >= 0')],
});

/** The fact's approved spend (net of refunds) up to the as-of date: what the marts' totals are tested against. */
const FACT_SPEND = `(SELECT SUM(f.spend_amount) FROM gold.fct_transactions f CROSS JOIN silver.customer_as_of a WHERE f.transaction_date <= a.as_of_date)`;

export const customerMonthly = sqlModel({
  name: 'silver.customer_monthly',
  file: 'silver/customer_monthly.sql',
  description: 'Per customer and month, up to the as-of date: purchases, purchase days, spend (approved, net of refunds), refunds, declined; only changed months are recomputed.',
  key: ['customer_id', 'month_start'],
  columns: [
    req('customer_id', string(100)),
    req('month_start', date),
    req('computed_as_of', date), // the as-of date of the run that computed the row (the latest month's: the previous as-of date)
    req('purchases', int),
    req('purchase_days', int),
    req('spend', decimal(18, 2)),
    req('purchase_amount', decimal(18, 2)),
    req('refund_amount', decimal(18, 2)),
    req('declined_count', int),
    col('first_purchase_date', date),
    col('last_purchase_date', date),
  ],
  refresh: 'full',
  tests: [
    test.expression('purchase days are at most the purchases', 'purchase_days <= purchases'),
    test.expression('every transaction up to the as-of date is counted once', `(SELECT SUM(spend) FROM silver.customer_monthly) = ${FACT_SPEND}`),
  ],
});

// ---- churn ---------------------------------------------------------------------------------

export const churnSnapshots = sqlModel({
  name: 'silver.churn_snapshots',
  file: 'silver/churn_snapshots.sql',
  description: 'The snapshot dates of the churn model: score (the as-of date), holdout and training month ends.',
  key: ['snapshot_date'],
  columns: [req('snapshot_date', date), req('snapshot_role', string(16)), req('as_of_date', date), col('label_end_date', date)],
  refresh: 'full',
  tests: [test.acceptedValues('snapshot_role', ['score', 'holdout', 'train']), test.unique('snapshot_role', { where: "snapshot_role <> 'train'" })],
});

/** A snapshot reads the year before it and its label window after it: data changed on D moves the snapshots from D - label days on; the as-of date is always among them. */
function snapshotDates(changes: Changes, settings: Settings): DateRange | undefined {
  const data = unionOfChanges(changes);
  if (!data) return undefined;
  let from = addDays(data.from, -settings.CUSTOMER_CHURN_LABEL_DAYS);
  // an as-of date set before the changed data is a snapshot too
  if (settings.ANALYTICS_AS_OF_DATE && settings.ANALYTICS_AS_OF_DATE < from) from = settings.ANALYTICS_AS_OF_DATE;
  return { from, to: OPEN_END };
}

const featureColumns = ['recency', 'frequency', 'monetary', 'trend', 'tenure', 'aov', 'age', 'credit_limit'].map((t) => col(`x_${t}`, decimal(18, 6)));

export const customerFeatures = sqlModel({
  name: 'silver.customer_features',
  file: 'silver/customer_features.sql',
  description: 'What the churn model knows of each customer on each snapshot date (features, model inputs x_*, and the label on training and holdout snapshots).',
  key: ['snapshot_date', 'customer_id'],
  columns: [
    req('snapshot_date', date),
    req('customer_id', string(100)),
    req('snapshot_role', string(16)),
    req('first_purchase_date', date),
    req('last_purchase_date', date),
    req('days_since_last_purchase', int),
    req('tenure_days', int),
    req('purchases_365', int),
    req('spend_365', decimal(18, 2)),
    req('spend_last_90', decimal(18, 2)),
    req('spend_prior_90', decimal(18, 2)),
    req('aov_365', decimal(18, 2)),
    col('age', int),
    col('credit_limit', decimal(12, 2)),
    col('churned', int),
    ...featureColumns,
  ],
  refresh: 'date_range',
  dateColumn: 'snapshot_date',
  affectedDates: snapshotDates,
  tests: [
    test.acceptedValues('churned', [0, 1]),
    test.expression('labels only where the future is known', "(snapshot_role = 'score' AND churned IS NULL) OR (snapshot_role <> 'score' AND churned IS NOT NULL)"),
    test.expression('recency and tenure are not negative', 'days_since_last_purchase >= 0 AND tenure_days >= days_since_last_purchase'),
  ],
});

export const churnModel = codeModel({
  name: 'gold.churn_model',
  description: 'The churn model: one row per term (coefficient, mean and sd that standardise its feature) with the holdout AUC, log loss and base rate; or the heuristic, with why.',
  key: ['term'],
  columns: [
    req('term', string(64)),
    req('model_version', string(64)),
    req('method', string(32)),
    req('coefficient', decimal(18, 8)),
    req('feature_mean', decimal(18, 8)),
    req('feature_sd', decimal(18, 8)),
    req('trained_as_of', date),
    col('holdout_date', date),
    req('training_snapshots', string(400)),
    req('label_days', int),
    req('train_rows', int),
    req('holdout_rows', int),
    col('train_base_rate', decimal(9, 6)),
    col('base_rate', decimal(9, 6)),
    col('holdout_auc', decimal(9, 6)),
    col('holdout_log_loss', decimal(9, 6)),
    col('train_auc', decimal(9, 6)),
    req('note', string(1000)),
  ].sort((a, b) => CHURN_MODEL_COLUMNS.indexOf(a.name as never) - CHURN_MODEL_COLUMNS.indexOf(b.name as never)),
  refresh: 'full',
  reads: ['silver.customer_as_of', 'silver.churn_snapshots', 'silver.customer_features'],
  build: buildChurnModel,
  tests: [
    test.acceptedValues('method', ['logistic_regression', 'heuristic']),
    test.acceptedRange('holdout_auc', { min: 0, max: 1 }),
    test.expression('one model at a time', '(SELECT COUNT(DISTINCT model_version) FROM gold.churn_model) = 1'),
    test.expression('features are standardised by a positive sd', 'feature_sd > 0'),
  ],
});

export const churnPredictions = sqlModel({
  name: 'gold.churn_predictions',
  file: 'gold/churn_predictions.sql',
  description: "Churn risk of every customer, as of the as-of date: probability and a 0-100 score, scored in SQL from gold.churn_model (a customer who has not bought: the 'no_purchase' rule).",
  key: ['customer_id'],
  columns: [
    req('customer_id', string(100)),
    req('prediction_date', date),
    req('model_version', string(64)),
    req('method', string(32)),
    req('churn_probability', decimal(9, 6)),
    req('churn_risk_score', int),
    req('is_high_risk', bool),
    relaxed('days_since_last_purchase', int), // NULL for a customer who has not bought
    req('purchases_365', int),
  ],
  refresh: 'full',
  tests: [
    test.acceptedRange('churn_risk_score', { min: 0, max: 100 }),
    test.acceptedRange('churn_probability', { min: 0, max: 1 }),
    test.acceptedValues('method', ['logistic_regression', 'heuristic', 'no_purchase']),
    test.expression('a score for every current customer', '(SELECT COUNT(*) FROM gold.churn_predictions) = (SELECT COUNT(*) FROM gold.dim_customer WHERE is_current = 1)'),
  ],
});

// ---- marts ---------------------------------------------------------------------------------

const asOf = req('as_of_date', date);

/**
 * The fact's approved spend (net of refunds, up to the as-of date) of the customers who have
 * bought, from the month of their first purchase: what the per-customer marts add up to.
 * `silver.customer_monthly` holds it per customer and month, tested against the fact itself.
 */
const BUYERS_SPEND = `(SELECT SUM(m.spend) FROM silver.customer_monthly m
  JOIN (SELECT customer_id, MIN(month_start) AS first_month FROM silver.customer_monthly WHERE purchases > 0 GROUP BY customer_id) b
    ON b.customer_id = m.customer_id AND m.month_start >= b.first_month)`;

export const metricCustomerLtv = sqlModel({
  name: 'gold.metric_customer_ltv',
  file: 'gold/metric_customer_ltv.sql',
  description: 'Lifetime value per customer who has bought, and a 12-month predicted value with its method.',
  key: ['customer_id'],
  columns: [
    req('customer_id', string(100)),
    asOf,
    req('lifetime_value', decimal(18, 2)),
    req('purchases', int),
    req('purchase_days', int),
    req('refund_amount', decimal(18, 2)),
    req('declined_count', int),
    req('first_purchase_date', date),
    req('last_purchase_date', date),
    req('tenure_days', int),
    req('avg_spend_per_active_day', decimal(18, 2)),
    req('average_order_value', decimal(18, 2)),
    req('expected_purchases_12m', decimal(18, 4)),
    req('stay_probability_12m', decimal(9, 6)),
    req('predicted_value_12m', decimal(18, 2)),
    req('prediction_method', string(400)),
  ],
  refresh: 'full',
  tests: [
    test.acceptedRange('purchases', { min: 1 }),
    test.acceptedRange('stay_probability_12m', { min: 0, max: 1 }),
    test.expression('first purchase is not after the last', 'first_purchase_date <= last_purchase_date'),
    test.expression('lifetime value adds up to the fact\'s spend of these customers', `(SELECT SUM(lifetime_value) FROM gold.metric_customer_ltv) = (SELECT SUM(m.spend) FROM silver.customer_monthly m WHERE m.customer_id IN (SELECT customer_id FROM silver.customer_monthly WHERE purchases > 0))`),
  ],
});

export const SEGMENTS = ['Lost', 'New', 'High Value', 'At Risk', 'Regular'];

export const customerSegments = sqlModel({
  name: 'gold.customer_segments',
  file: 'gold/customer_segments.sql',
  description: 'Exactly one segment per customer who has bought (Lost, New, High Value, At Risk, Regular, in that precedence), with the rule and the 90-day spend trend.',
  key: ['customer_id'],
  columns: [
    req('customer_id', string(100)),
    asOf,
    req('segment', string(32)),
    req('segment_rule', string(400)),
    req('days_since_last_purchase', int),
    req('days_since_first_purchase', int),
    req('lifetime_value', decimal(18, 2)),
    req('ltv_rank', int),
    req('is_top_ltv', bool),
    req('spend_last_90_days', decimal(18, 2)),
    req('spend_prior_90_days', decimal(18, 2)),
    req('spend_trend', string(16)),
    col('spend_change_pct', decimal(18, 2)),
    col('churn_risk_score', int),
  ],
  refresh: 'full',
  tests: [
    test.acceptedValues('segment', SEGMENTS),
    test.acceptedValues('spend_trend', ['Up', 'Down', 'Flat', 'No spend']),
    test.expression('one segment for every customer who has bought', '(SELECT COUNT(*) FROM gold.customer_segments) = (SELECT COUNT(*) FROM gold.metric_customer_ltv)'),
  ],
});

export const metricMomSpendChange = sqlModel({
  name: 'gold.metric_mom_spend_change',
  file: 'gold/metric_mom_spend_change.sql',
  description: 'Per customer and calendar month from its first purchase: spend, the previous month\'s (0 when none), change and change %.',
  key: ['customer_id', 'month_start'],
  columns: [
    req('customer_id', string(100)),
    req('month_start', date),
    asOf,
    req('spend', decimal(18, 2)),
    req('previous_month_spend', decimal(18, 2)),
    req('spend_change', decimal(18, 2)),
    col('spend_change_pct', decimal(18, 2)),
    req('is_partial_month', bool),
  ],
  refresh: 'full',
  tests: [
    test.expression('the change is spend minus the previous month', 'spend_change = spend - previous_month_spend'),
    test.expression('its spend adds up to the fact\'s, from each first purchase month', `(SELECT SUM(spend) FROM gold.metric_mom_spend_change) = ${BUYERS_SPEND}`),
  ],
});

export const metricAvgTransactionValue = sqlModel({
  name: 'gold.metric_avg_transaction_value',
  file: 'gold/metric_avg_transaction_value.sql',
  description: 'Per customer who has bought: mean, median, standard deviation, min, max and coefficient of variation of purchase amounts, and a consistency band.',
  key: ['customer_id'],
  columns: [
    req('customer_id', string(100)),
    asOf,
    req('purchases', int),
    req('mean_amount', decimal(18, 2)),
    req('median_amount', decimal(18, 2)),
    col('stddev_amount', decimal(18, 2)),
    req('min_amount', decimal(12, 2)),
    req('max_amount', decimal(12, 2)),
    col('coefficient_of_variation', decimal(9, 4)),
    req('spending_consistency', string(32)),
  ],
  refresh: 'full',
  tests: [
    test.acceptedValues('spending_consistency', ['Single purchase', 'Steady', 'Variable', 'Erratic']),
    test.expression('min <= median <= max and min <= mean <= max', 'min_amount <= median_amount AND median_amount <= max_amount AND min_amount <= mean_amount AND mean_amount <= max_amount'),
  ],
});

export const monthlyMetrics = sqlModel({
  name: 'gold.monthly_metrics',
  file: 'gold/monthly_metrics.sql',
  description: 'Per month: revenue, orders, customers, new and returning customers, AOV, declined; partial months flagged.',
  key: ['month_start'],
  columns: [
    req('month_start', date),
    asOf,
    req('revenue', decimal(18, 2)),
    req('orders', int),
    req('customers', int),
    req('new_customers', int),
    req('returning_customers', int),
    col('average_order_value', decimal(18, 2)),
    req('declined_transactions', int),
    req('is_partial_period', bool),
  ],
  refresh: 'full',
  tests: [
    test.expression('new and returning make up the customers', 'new_customers + returning_customers = customers AND returning_customers >= 0'),
    test.expression('total revenue equals the fact\'s approved spend up to the as-of date', `(SELECT SUM(revenue) FROM gold.monthly_metrics) = ${FACT_SPEND}`),
  ],
});

export const cohortAnalysis = sqlModel({
  name: 'gold.cohort_analysis',
  file: 'gold/cohort_analysis.sql',
  description: 'Acquisition month × months since first purchase: active customers, retention %, revenue and revenue per customer.',
  key: ['cohort_month', 'months_since_first'],
  columns: [
    req('cohort_month', date),
    req('months_since_first', int),
    req('month_start', date),
    asOf,
    req('cohort_customers', int),
    req('active_customers', int),
    req('retention_pct', decimal(5, 2)),
    req('revenue', decimal(18, 2)),
    req('revenue_per_customer', decimal(18, 2)),
    req('is_partial_period', bool),
  ],
  refresh: 'full',
  tests: [
    test.acceptedRange('retention_pct', { min: 0, max: 100 }),
    test.expression('the cohort\'s own month is 100 %', 'months_since_first <> 0 OR (retention_pct = 100 AND active_customers = cohort_customers)'),
    test.expression('active customers are at most the cohort', 'active_customers <= cohort_customers'),
    test.expression('its revenue adds up to the fact\'s, from each first purchase month', `(SELECT SUM(revenue) FROM gold.cohort_analysis) = ${BUYERS_SPEND}`),
  ],
});

export const CAMPAIGNS = ['Win-Back', 'Retention', 'Cross-Sell', 'Loyalty'];

export const campaignTargets = sqlModel({
  name: 'gold.campaign_targets',
  file: 'gold/campaign_targets.sql',
  description: 'At most one campaign per customer (Win-Back, Retention, Cross-Sell, Loyalty, in that precedence) with priority, reason and estimated value.',
  key: ['customer_id'],
  columns: [
    req('customer_id', string(100)),
    asOf,
    req('campaign', string(32)),
    req('priority', string(8)),
    req('reason', string(400)),
    req('estimated_value', decimal(18, 2)),
    req('segment', string(32)),
    col('churn_risk_score', int),
    req('lifetime_value', decimal(18, 2)),
  ],
  refresh: 'full',
  tests: [test.acceptedValues('campaign', CAMPAIGNS), test.acceptedValues('priority', ['High', 'Medium', 'Low'])],
});

export const businessInsights = sqlModel({
  name: 'gold.business_insights',
  file: 'gold/business_insights.sql',
  description: 'Headline insights: revenue trend, high-value customers at risk, one-time buyers, best and worst cohort, campaigns; figures, a sentence, a priority.',
  key: ['insight_key'],
  columns: [
    req('insight_key', string(64)),
    asOf,
    req('insight_type', string(32)),
    req('title', string(200)),
    col('metric_value', decimal(18, 2)),
    col('comparison_value', decimal(18, 2)),
    col('change_pct', decimal(18, 2)),
    col('metric_count', int),
    req('detail', string(1000)),
    req('priority', string(8)),
  ],
  refresh: 'full',
  tests: [test.acceptedValues('priority', ['High', 'Medium', 'Low'])],
});

export const customer360Profile = sqlModel({
  name: 'gold.customer_360_profile',
  file: 'gold/customer_360_profile.sql',
  description: 'One row per customer: current attributes, segment, LTV and predicted LTV, purchase statistics, RFM, churn risk, campaign and eligibility.',
  key: ['customer_id'],
  columns: [
    req('customer_id', string(100)),
    asOf,
    req('customer_key', int),
    ...customerAttributes.filter((c) => c.name !== 'customer_segment' && c.name !== 'decline_type'),
    col('source_segment', string(100)),
    req('has_purchased', bool),
    col('segment', string(32)),
    col('segment_rule', string(400)),
    col('lifetime_value', decimal(18, 2)),
    col('predicted_value_12m', decimal(18, 2)),
    req('purchases', int),
    col('first_purchase_date', date),
    col('last_purchase_date', date),
    col('average_order_value', decimal(18, 2)),
    col('mean_amount', decimal(18, 2)),
    col('median_amount', decimal(18, 2)),
    col('stddev_amount', decimal(18, 2)),
    col('min_amount', decimal(12, 2)),
    col('max_amount', decimal(12, 2)),
    col('coefficient_of_variation', decimal(9, 4)),
    col('spending_consistency', string(32)),
    col('recency_days', int),
    req('frequency', int),
    col('monetary', decimal(18, 2)),
    col('recency_score', int),
    col('frequency_score', int),
    col('monetary_score', int),
    col('spend_last_90_days', decimal(18, 2)),
    col('spend_prior_90_days', decimal(18, 2)),
    col('spend_trend', string(16)),
    col('churn_risk_score', int),
    col('churn_probability', decimal(9, 6)),
    req('is_high_churn_risk', bool),
    col('campaign', string(32)),
    col('campaign_priority', string(8)),
    col('campaign_value', decimal(18, 2)),
    req('is_win_back_eligible', bool),
    req('is_retention_eligible', bool),
    req('is_cross_sell_eligible', bool),
    req('is_loyalty_eligible', bool),
  ],
  refresh: 'full',
  tests: [
    test.acceptedRange('churn_risk_score', { min: 0, max: 100 }),
    test.expression('a buyer has a segment, a non-buyer none', '(has_purchased = 1 AND segment IS NOT NULL) OR (has_purchased = 0 AND segment IS NULL)'),
    test.expression(
      'the campaign is the first eligible one',
      "COALESCE(campaign, '-') = CASE WHEN is_win_back_eligible = 1 THEN 'Win-Back' WHEN is_retention_eligible = 1 THEN 'Retention' WHEN is_cross_sell_eligible = 1 THEN 'Cross-Sell' WHEN is_loyalty_eligible = 1 THEN 'Loyalty' ELSE '-' END",
    ),
    test.expression('one row per current customer', '(SELECT COUNT(*) FROM gold.customer_360_profile) = (SELECT COUNT(*) FROM gold.dim_customer WHERE is_current = 1)'),
  ],
});

export const CUSTOMER_MODELS = [
  customerVersions,
  customerKeys,
  dimCustomer,
  dimDate,
  dimMerchantCategory,
  fctTransactions,
  customerAsOf,
  customerMonthly,
  churnSnapshots,
  customerFeatures,
  churnModel,
  churnPredictions,
  metricCustomerLtv,
  customerSegments,
  metricMomSpendChange,
  metricAvgTransactionValue,
  monthlyMetrics,
  cohortAnalysis,
  campaignTargets,
  businessInsights,
  customer360Profile,
];
