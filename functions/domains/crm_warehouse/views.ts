/**
 * The reporting views Power BI and the HTML report read, one set per Power BI tab and report page
 * (the exposure). Most select the columns of one CRM table under a stable name (`reporting.crm_*`);
 * two add what no table holds as such (the as-of row, deals closed per month). The
 * `tests/reportingViews.test.ts` contract holds each to these columns and types on every engine.
 * The pipeline's bookkeeping column (`updated_date`, what a by-change-date rebuild selects on)
 * stays out of the contract.
 */
import type { ViewSpec } from '../domain.js';
import type { ModelSpec } from '../../transform/models.js';
import { bool, date, decimal, int, req, col } from '../../warehouse/catalog.js';
import * as m from './models.js';

export const TABS = {
  revenue: 'Power BI "Revenue and Product Performance" tab; report page "Revenue and products"',
  customers: 'Power BI "Customer Insights and Segmentation" tab',
  support: 'Power BI "Support and Customer Satisfaction" tab; report page "Support and satisfaction"',
  pipeline: 'Power BI "Sales pipeline" view; report page "Sales pipeline"',
  weekly: 'Power BI "Weekly operations" view; report page "Support and satisfaction"',
  /** Every CRM page of the report states it. */
  asOf: 'every CRM report page and Power BI tab ("data as of")',
} as const;

function view(name: string, model: ModelSpec, exposure: string, description: string): ViewSpec {
  return {
    name: `reporting.${name}`,
    file: `reporting/${name}.sql`,
    description,
    exposure,
    columns: model.columns.filter((c) => c.name !== 'updated_date'),
  };
}

export const CRM_VIEWS: ViewSpec[] = [
  view('crm_revenue_by_month', m.mtrRevenueByMonth, TABS.revenue, 'Revenue per calendar month with the change on a year before and the partial-period flag.'),
  view('crm_revenue_by_year', m.mtrRevenueByYear, TABS.revenue, 'Revenue per calendar year; a partial year is flagged and not compared.'),
  view('crm_product_performance', m.mtrProductPerformance, TABS.revenue, 'Revenue, units, margin, rank and concentration per product and its category.'),
  view('crm_products', m.dimProducts, TABS.revenue, 'The product dimension; key -1 is the unknown product.'),
  view('crm_order_lines', m.factOrderLines, TABS.revenue, 'Order lines with revenue, cost and margin, keyed to account, contact and product (drill-down).'),
  view('crm_customer_segments', m.mtrCustomerSegmentSummary, TABS.customers, 'Contacts, support engagement, tickets and revenue by income segment × gender × account revenue segment.'),
  view('crm_accounts', m.dimAccounts, TABS.customers, 'The account dimension; key -1 is the unknown account.'),
  view('crm_contacts', m.dimContacts, TABS.customers, 'The contact dimension with seniority level and account; key -1 is the unknown contact.'),
  view('crm_support_performance', m.mtrSupportPerformance, TABS.support, 'Per channel and month: response and resolution percentiles, CSAT, SLA compliance, top issue types.'),
  view('crm_tickets', m.factTickets, TABS.support, 'Tickets with hours, SLA verdicts and CSAT (drill-down).'),
  view('crm_sales_pipeline', m.mtrSalesPipeline, TABS.pipeline, 'Per stage: open pipeline, conversion, days in stage; win rate, won deal size, sales cycle.'),
  view('crm_deals', m.factDeals, TABS.pipeline, 'Deals as they are now: weighted amount, days open, sales cycle, stage changes.'),
  view('crm_deal_stage_history', m.factDealStageHistory, TABS.pipeline, 'Every stage period of every deal with its movement.'),
  view('crm_weekly_ops', m.mtrWeeklyOps, TABS.weekly, 'Per ISO week: tickets, response and resolution medians, CSAT, SLA violators, revenue at risk.'),
  view('crm_as_of', m.crmAsOf, TABS.asOf, 'One row: the moment the CRM data describes (the latest updated_at of any export).'),
  {
    name: 'reporting.crm_deal_outcomes_by_month',
    file: 'reporting/crm_deal_outcomes_by_month.sql',
    description: 'Deals closed per month of closing: won, lost, win rate (gold.mtr_sales_pipeline\'s definition) and won value, with the partial-period flag.',
    exposure: TABS.pipeline,
    columns: [
      req('month_start', date),
      req('won_deals', int),
      req('lost_deals', int),
      col('win_rate', decimal(9, 4)),
      req('won_value', decimal(24, 2)),
      req('is_partial_period', bool),
    ],
  },
];
