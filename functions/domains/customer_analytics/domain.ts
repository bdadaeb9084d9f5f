/**
 * Customer analytics: customers, transactions and simple sales exports (CSV uploads) → a customer
 * star schema, segments, lifetime value, cohorts, churn scores, campaign targets and a customer
 * 360 profile. Every recency-based mart is computed as of the data's last transaction date, or the
 * setting ANALYTICS_AS_OF_DATE; never the wall clock.
 */
import { defineDomain } from '../domain.js';
import { customers } from './sources/customers.js';
import { sales } from './sources/sales.js';
import { transactions } from './sources/transactions.js';
import { CUSTOMER_MODELS } from './models.js';

export const customerAnalytics = defineDomain({
  name: 'customer_analytics',
  title: 'Customer analytics',
  description: 'Customers, transactions and sales exports → a customer star schema, segments, LTV, cohorts, churn scores, campaigns and a customer 360.',
  uploadSources: [customers, transactions, sales],
  models: CUSTOMER_MODELS,
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
