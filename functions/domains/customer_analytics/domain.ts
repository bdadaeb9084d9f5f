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
import { STAR_SCHEMA } from './models.js';

export const customerAnalytics = defineDomain({
  name: 'customer_analytics',
  title: 'Customer analytics',
  description: 'Customers, transactions and sales exports → a customer star schema, segments, LTV, cohorts, churn scores, campaigns and a customer 360.',
  uploadSources: [customers, transactions, sales],
  models: [...STAR_SCHEMA],
});
