/**
 * Customer analytics: customers, transactions and simple sales exports (CSV uploads) → a customer
 * star schema, segments, lifetime value, cohorts, churn scores, campaign targets and a customer
 * 360 profile. Every recency-based mart is computed as of the data's last transaction date, or the
 * setting ANALYTICS_AS_OF_DATE; never the wall clock.
 */
import { defineDomain } from '../domain.js';
import type { ColumnDef } from '../../warehouse/catalog.js';
import { customers } from './sources/customers.js';
import { sales } from './sources/sales.js';
import { transactions } from './sources/transactions.js';
import { customerHeadlines } from './headlines.js';
import { businessInsights, campaignTargets, churnModel, cohortAnalysis, CUSTOMER_MODELS, customer360Profile, customerAsOf, monthlyMetrics } from './models.js';
import { customerReport } from './report.js';
import { customerSample } from './sample.js';
import { date, decimal, int, req, string, col } from '../../warehouse/catalog.js';

const EXPOSURE = 'Customer 360 dashboard; report page "Customers"';
const columnsOf = (spec: { columns: ColumnDef[] }, names?: string[]) => (names ? names.map((n) => spec.columns.find((c) => c.name === n)!) : spec.columns);

export const customerAnalytics = defineDomain({
  name: 'customer_analytics',
  title: 'Customer analytics',
  description: 'Customers, transactions and sales exports → a customer star schema, segments, LTV, cohorts, churn scores, campaigns and a customer 360.',
  uploadSources: [customers, transactions, sales],
  models: CUSTOMER_MODELS,
  views: [
    {
      name: 'reporting.customer_as_of',
      file: 'reporting/customer_as_of.sql',
      description: 'One row: the date the customer marts are computed as of, its source, and the dates the transactions cover.',
      exposure: EXPOSURE,
      columns: columnsOf(customerAsOf),
    },
    {
      name: 'reporting.customer_360',
      file: 'reporting/customer_360.sql',
      description: 'One row per customer: attributes, segment, value, purchase statistics, RFM, churn risk, campaign.',
      exposure: EXPOSURE,
      columns: columnsOf(customer360Profile),
    },
    {
      name: 'reporting.customer_segment_summary',
      file: 'reporting/customer_segment_summary.sql',
      description: 'Per segment: customers, share, lifetime value in all and on average, average churn risk.',
      exposure: EXPOSURE,
      columns: [
        req('as_of_date', date),
        req('segment', string(32)),
        req('customers', int),
        col('share_pct', decimal(5, 2)),
        col('lifetime_value', decimal(18, 2)),
        col('average_lifetime_value', decimal(18, 2)),
        col('average_churn_risk_score', decimal(5, 1)),
      ],
    },
    {
      name: 'reporting.customer_monthly_metrics',
      file: 'reporting/customer_monthly_metrics.sql',
      description: 'Revenue, orders, customers (new, returning), AOV per month; partial months flagged.',
      exposure: EXPOSURE,
      columns: columnsOf(monthlyMetrics),
    },
    {
      name: 'reporting.customer_cohort_retention',
      file: 'reporting/customer_cohort_retention.sql',
      description: 'Cohort heatmap: acquisition month × months since, retention % and revenue per customer.',
      exposure: EXPOSURE,
      columns: columnsOf(cohortAnalysis),
    },
    {
      name: 'reporting.customer_campaign_targets',
      file: 'reporting/customer_campaign_targets.sql',
      description: 'The contact list: campaign, priority, reason, estimated value, and who the customer is.',
      exposure: `${EXPOSURE}; the marketing team's campaign export`,
      columns: [
        ...columnsOf(campaignTargets),
        ...columnsOf(customer360Profile, ['first_name', 'last_name', 'email', 'state', 'city']),
      ],
    },
    {
      name: 'reporting.customer_business_insights',
      file: 'reporting/customer_business_insights.sql',
      description: 'The headline insights with their figures, sentence and priority.',
      exposure: `${EXPOSURE}; report page "Executive summary"`,
      columns: columnsOf(businessInsights),
    },
    {
      name: 'reporting.customer_churn_model',
      file: 'reporting/customer_churn_model.sql',
      description: 'The churn model in use: method, snapshots, holdout AUC, log loss and base rate, or why the heuristic scores.',
      exposure: EXPOSURE,
      columns: columnsOf(churnModel, ['model_version', 'method', 'trained_as_of', 'holdout_date', 'training_snapshots', 'label_days', 'train_rows', 'holdout_rows', 'train_base_rate', 'base_rate', 'holdout_auc', 'holdout_log_loss', 'train_auc', 'note']),
    },
  ],
  headlines: customerHeadlines,
  report: customerReport,
  sample: customerSample,
  values: (settings) => ({
    parameters: {
      as_of_date: settings.ANALYTICS_AS_OF_DATE ?? null,
      lost_days: settings.CUSTOMER_LOST_DAYS,
      new_days: settings.CUSTOMER_NEW_DAYS,
      active_days: settings.CUSTOMER_ACTIVE_DAYS,
      high_value_top_pct: settings.CUSTOMER_HIGH_VALUE_TOP_PCT,
      at_risk_spend_ratio: settings.CUSTOMER_AT_RISK_SPEND_RATIO,
      high_churn_score: settings.CUSTOMER_HIGH_CHURN_SCORE,
      churn_label_days: settings.CUSTOMER_CHURN_LABEL_DAYS,
      training_snapshots: settings.CUSTOMER_CHURN_TRAINING_SNAPSHOTS,
      retention_min_ltv: settings.CUSTOMER_RETENTION_MIN_LTV,
      campaign_high_value: settings.CUSTOMER_CAMPAIGN_HIGH_VALUE,
      campaign_medium_value: settings.CUSTOMER_CAMPAIGN_MEDIUM_VALUE,
      cv_steady: settings.CUSTOMER_CV_STEADY,
      cv_variable: settings.CUSTOMER_CV_VARIABLE,
      min_observed_days: settings.CUSTOMER_MIN_OBSERVED_DAYS,
    },
  }),
});
