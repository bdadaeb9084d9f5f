/**
 * CRM warehouse models: seven CRM exports → staging (silver) → a star schema of Type 1 dimensions
 * and facts (gold) → metric tables (gold, `mtr_`). SQL in `sql/crm_warehouse/`.
 *
 * Layers:
 *   silver  `stg_crm_*`: each entity's latest version per id, typed, with derived fields;
 *           `crm_*_keys`: surrogate keys that never change (append-only);
 *           `crm_as_of`: the moment the data describes (every "as of" rule uses it)
 *   gold    `dim_*`: what Power BI slices by, Type 1, with the unknown member -1;
 *           `fact_*`: keyed to the dimensions; `mtr_*`: pre-aggregated metrics
 *
 * Staging, the account and contact dimensions, and the facts refresh by change date
 * (`updated_date`, the date of the winning version's updated_at): a run re-derives only the ids
 * with a version changed in the run's dates, so one day's exports rebuild one day's worth of rows.
 * Key maps append; the product dimension (small) and the metrics (aggregates) are rebuilt whole.
 */
import { test } from '../../quality/dataTests.js';
import { sqlModel, tableOf } from '../../transform/models.js';
import { bigint, bool, col, date, decimal, int, MAX_LANDING_PATH_CHARS, req, string, timestamp, type ColumnDef } from '../../warehouse/catalog.js';
import { DEAL_STAGES, TICKET_CHANNELS, TICKET_PRIORITIES, ORDER_STATUSES } from './sources/index.js';

// Warehouse text lengths: a contract's text(n) counts code points, NVARCHAR UTF-16 units: 2n.
const ID = string(100);
const NAME = string(400);
const LABEL = string(200);
const ENUM = string(32);

/** Where the winning version came from: its landing file and line. */
const LINEAGE: ColumnDef[] = [req('_source_file', string(MAX_LANDING_PATH_CHARS)), req('_row_number', bigint)];
/** The date of the winning version's updated_at: what a by-change-date rebuild selects on. */
const UPDATED = [req('updated_at', timestamp), req('updated_date', date)];

/** Staging and facts: rebuilt for the ids changed in the run's dates (see the file comment). */
const byChangeDate = { refresh: 'date_range', dateColumn: 'updated_date' } as const;

// ---- silver: as-of, staging, keys ------------------------------------------------------------

export const crmAsOf = sqlModel({
  name: 'silver.crm_as_of',
  file: 'silver/crm_as_of.sql',
  description: 'One row: the moment the CRM data describes (the latest updated_at of any export); every as-of rule of the CRM models uses it.',
  key: ['as_of_date'],
  columns: [req('as_of_date', date), req('as_of_at', timestamp)],
  refresh: 'full',
});

export const stgCrmAccounts = sqlModel({
  name: 'silver.stg_crm_accounts',
  file: 'silver/stg_crm_accounts.sql',
  description: 'One row per account: its latest version (latest updated_at, then the file ingested last, then the later line), typed.',
  key: ['account_id'],
  columns: [
    req('account_id', ID),
    req('account_name', NAME),
    col('industry', LABEL),
    col('country', LABEL),
    col('employee_count', int),
    col('annual_revenue', decimal(18, 2)),
    req('account_type', ENUM),
    col('owner', NAME),
    req('created_at', timestamp),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [test.acceptedValues('account_type', ['customer', 'prospect', 'partner']), test.expression('updated after created', 'updated_at >= created_at')],
});

export const stgCrmContacts = sqlModel({
  name: 'silver.stg_crm_contacts',
  file: 'silver/stg_crm_contacts.sql',
  description: 'One row per contact: its latest version, typed, with its full name.',
  key: ['contact_id'],
  columns: [
    req('contact_id', ID),
    col('account_id', ID),
    req('first_name', LABEL),
    col('last_name', LABEL),
    req('full_name', string(402)),
    col('email', string(640)),
    col('job_title', NAME),
    col('gender', ENUM),
    col('income_segment', ENUM),
    req('created_at', timestamp),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [
    // the account may come in a later file: reported, not refused
    test.relationships('account_id', tableOf(stgCrmAccounts), 'account_id', { severity: 'warn' }),
    test.acceptedValues('income_segment', ['Low', 'Medium', 'High']),
  ],
});

export const stgCrmProducts = sqlModel({
  name: 'silver.stg_crm_products',
  file: 'silver/stg_crm_products.sql',
  description: 'One row per product: its latest version, typed, with its unit margin and margin share of the price.',
  key: ['product_id'],
  columns: [
    req('product_id', ID),
    req('sku', string(128)),
    req('product_name', NAME),
    col('category', LABEL),
    req('unit_price', decimal(10, 2)),
    col('unit_cost', decimal(10, 2)),
    col('unit_margin', decimal(11, 2)),
    col('margin_pct', decimal(9, 4)),
    req('stock_quantity', int),
    req('reorder_level', int),
    req('is_active', bool),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [test.acceptedRange('unit_price', { min: 0 }), test.acceptedRange('stock_quantity', { min: 0 })],
});

export const stgCrmDeals = sqlModel({
  name: 'silver.stg_crm_deals',
  file: 'silver/stg_crm_deals.sql',
  description: 'One row per deal: its latest version, typed, with is_closed, is_won and is_overdue (open past its expected close date, as of the data).',
  key: ['deal_id'],
  columns: [
    req('deal_id', ID),
    col('account_id', ID),
    col('contact_id', ID),
    req('deal_name', NAME),
    req('stage', ENUM),
    req('amount', decimal(14, 2)),
    req('probability', int),
    col('expected_close_date', date),
    col('owner', NAME),
    req('created_at', timestamp),
    col('closed_at', timestamp),
    req('is_closed', bool),
    req('is_won', bool),
    req('is_overdue', bool),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [
    test.acceptedValues('stage', [...DEAL_STAGES]),
    test.acceptedRange('probability', { min: 0, max: 100 }),
    test.expression('closed deals say when', '(is_closed = 1 AND closed_at IS NOT NULL) OR (is_closed = 0 AND closed_at IS NULL)'),
    test.relationships('account_id', tableOf(stgCrmAccounts), 'account_id', { severity: 'warn' }),
    test.relationships('contact_id', tableOf(stgCrmContacts), 'contact_id', { severity: 'warn' }),
  ],
});

export const stgCrmActivities = sqlModel({
  name: 'silver.stg_crm_activities',
  file: 'silver/stg_crm_activities.sql',
  description: 'One row per activity (call, e-mail, meeting, note, task): its latest version, typed.',
  key: ['activity_id'],
  columns: [
    req('activity_id', ID),
    req('activity_type', ENUM),
    col('account_id', ID),
    col('contact_id', ID),
    col('deal_id', ID),
    col('owner', NAME),
    col('subject', string(1000)),
    req('activity_at', timestamp),
    col('due_at', timestamp),
    col('completed_at', timestamp),
    req('is_completed', bool),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [
    // no relationships tests: the largest table, and its references are informational (the fact
    // shows an unknown account or contact as key -1)
    test.acceptedValues('activity_type', ['call', 'email', 'meeting', 'note', 'task']),
  ],
});

export const stgCrmTickets = sqlModel({
  name: 'silver.stg_crm_tickets',
  file: 'silver/stg_crm_tickets.sql',
  description: 'One row per support ticket: its latest version, typed, with the hours to first response and to resolution.',
  key: ['ticket_id'],
  columns: [
    req('ticket_id', ID),
    col('account_id', ID),
    col('contact_id', ID),
    req('channel', ENUM),
    req('issue_type', LABEL),
    req('priority', ENUM),
    req('status', ENUM),
    req('created_at', timestamp),
    col('first_response_at', timestamp),
    col('resolved_at', timestamp),
    col('first_response_hours', decimal(18, 3)),
    col('resolution_hours', decimal(18, 3)),
    col('csat_score', int),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [
    test.acceptedValues('channel', [...TICKET_CHANNELS]),
    test.acceptedValues('priority', [...TICKET_PRIORITIES]),
    test.acceptedRange('csat_score', { min: 1, max: 5 }),
    test.expression('resolved after created', 'resolved_at IS NULL OR resolved_at >= created_at'),
    test.expression('answered after created', 'first_response_at IS NULL OR first_response_at >= created_at'),
  ],
});

export const stgCrmOrderLines = sqlModel({
  name: 'silver.stg_crm_order_lines',
  file: 'silver/stg_crm_order_lines.sql',
  description: 'One row per order line: its latest version, typed, with its revenue (quantity × unit price × (1 − discount)) and fulfilment days.',
  key: ['order_id', 'line_number'],
  columns: [
    req('order_id', ID),
    req('line_number', int),
    col('account_id', ID),
    col('contact_id', ID),
    req('product_id', ID),
    req('quantity', int),
    req('unit_price', decimal(10, 2)),
    req('discount', decimal(5, 4)),
    req('gross_amount', decimal(18, 2)),
    req('revenue', decimal(18, 2)),
    req('order_status', ENUM),
    req('ordered_at', timestamp),
    col('shipped_at', timestamp),
    col('delivered_at', timestamp),
    col('fulfilment_days', int),
    ...UPDATED,
    ...LINEAGE,
  ],
  ...byChangeDate,
  tests: [
    test.acceptedValues('order_status', [...ORDER_STATUSES]),
    test.acceptedRange('discount', { min: 0, max: 1 }),
    test.acceptedRange('quantity', { min: 1 }),
    test.expression('revenue within the gross amount', 'revenue >= 0 AND revenue <= gross_amount'),
    // line → product (it may arrive a file later); line → order is the facts'
    test.relationships('product_id', tableOf(stgCrmProducts), 'product_id', { severity: 'warn' }),
  ],
});

function keyMap(entity: 'account' | 'contact' | 'product') {
  return sqlModel({
    name: `silver.crm_${entity}_keys`,
    file: `silver/crm_${entity}_keys.sql`,
    description: `The ${entity}s' integer surrogate keys: append-only, so a ${entity} keeps its key across runs and rebuilds.`,
    key: [`${entity}_id`],
    columns: [req(`${entity}_key`, int), req(`${entity}_id`, ID)],
    refresh: 'full',
    tests: [test.unique(`${entity}_key`), test.acceptedRange(`${entity}_key`, { min: 1 })],
  });
}

export const crmAccountKeys = keyMap('account');
export const crmContactKeys = keyMap('contact');
export const crmProductKeys = keyMap('product');

// ---- gold: dimensions --------------------------------------------------------------------------

export const dimAccounts = sqlModel({
  name: 'gold.dim_accounts',
  file: 'gold/dim_accounts.sql',
  description: 'Accounts as they are now (Type 1) with account_category and revenue_segment; key -1 is the unknown account.',
  key: ['account_key'],
  columns: [
    req('account_key', int),
    col('account_id', ID),
    req('account_name', NAME),
    req('industry', LABEL),
    req('country', LABEL),
    col('employee_count', int),
    col('annual_revenue', decimal(18, 2)),
    req('account_type', ENUM),
    req('account_category', ENUM),
    req('revenue_segment', ENUM),
    col('owner', NAME),
    col('created_at', timestamp),
    col('updated_at', timestamp),
    col('updated_date', date), // NULL for the unknown member
  ],
  ...byChangeDate,
  tests: [
    test.unique('account_id', { where: 'account_key <> -1' }),
    test.notNull('account_id', { where: 'account_key <> -1' }),
    test.acceptedValues('account_category', ['Enterprise', 'Mid-market', 'Small business', 'Unknown']),
    test.acceptedValues('revenue_segment', ['High', 'Medium', 'Low', 'Unknown']),
  ],
});

export const dimContacts = sqlModel({
  name: 'gold.dim_contacts',
  file: 'gold/dim_contacts.sql',
  description: 'Contacts as they are now (Type 1) with their account and a seniority level from the job title; key -1 is the unknown contact.',
  key: ['contact_key'],
  columns: [
    req('contact_key', int),
    col('contact_id', ID),
    req('account_key', int),
    col('account_id', ID),
    req('account_name', NAME),
    col('first_name', LABEL),
    col('last_name', LABEL),
    req('full_name', string(402)),
    col('email', string(640)),
    col('job_title', NAME),
    req('seniority_level', ENUM),
    req('gender', ENUM),
    req('income_segment', ENUM),
    col('created_at', timestamp),
    col('updated_at', timestamp),
    col('updated_date', date), // NULL for the unknown member
  ],
  ...byChangeDate,
  tests: [
    test.unique('contact_id', { where: 'contact_key <> -1' }),
    test.relationships('account_key', tableOf(dimAccounts), 'account_key', { where: 'account_key <> -1' }),
    test.acceptedValues('seniority_level', ['C-level', 'VP', 'Director', 'Manager', 'Individual contributor', 'Unknown']),
  ],
});

export const dimProducts = sqlModel({
  name: 'gold.dim_products',
  file: 'gold/dim_products.sql',
  description: 'Products as they are now (Type 1) with inventory status, price tier, unit profit and margin; key -1 is the unknown product.',
  key: ['product_key'],
  columns: [
    req('product_key', int),
    col('product_id', ID),
    col('sku', string(128)),
    req('product_name', NAME),
    req('category', LABEL),
    col('unit_price', decimal(10, 2)),
    col('unit_cost', decimal(10, 2)),
    col('unit_profit', decimal(11, 2)),
    col('margin_pct', decimal(9, 4)),
    col('stock_quantity', int),
    col('reorder_level', int),
    req('inventory_status', ENUM),
    req('price_tier', ENUM),
    req('is_active', bool),
    col('updated_at', timestamp),
  ],
  refresh: 'full',
  tests: [
    test.unique('product_id', { where: 'product_key <> -1' }),
    test.acceptedValues('inventory_status', ['In stock', 'Low stock', 'Out of stock', 'Unknown']),
    test.acceptedValues('price_tier', ['Budget', 'Standard', 'Premium', 'Luxury', 'Unknown']),
  ],
});

// ---- gold: facts -------------------------------------------------------------------------------

/** The dimension keys a fact carries, and the natural keys beside them. */
const accountAndContact: ColumnDef[] = [req('account_key', int), req('contact_key', int), col('account_id', ID), col('contact_id', ID)];
// The unknown member (-1) is in each dimension once it has been built; a fact can come first (its
// dimension's export has not arrived), so the test holds the real keys only.
const keyTests = [
  test.relationships('account_key', tableOf(dimAccounts), 'account_key', { where: 'account_key <> -1' }),
  test.relationships('contact_key', tableOf(dimContacts), 'contact_key', { where: 'contact_key <> -1' }),
];

export const factDealStageHistory = sqlModel({
  name: 'gold.fact_deal_stage_history',
  file: 'gold/fact_deal_stage_history.sql',
  description: 'Every stage period of every deal (SCD type 2), from every version ever received: valid_from inclusive, valid_to exclusive, days in stage, movement Initial / Forward / Backward.',
  key: ['deal_id', 'period_number'],
  columns: [
    req('deal_id', ID),
    req('period_number', int),
    req('stage', ENUM),
    req('stage_order', int),
    col('previous_stage', ENUM),
    req('movement', ENUM),
    req('valid_from', timestamp),
    req('valid_to', timestamp),
    req('is_current', bool),
    col('days_in_stage', int),
    req('is_first_in_stage', bool),
    req('reaches_later_stage', bool),
    req('updated_date', date),
  ],
  ...byChangeDate,
  tests: [
    test.unique('deal_id', { where: 'is_current = 1' }), // one current period per deal
    test.expression('periods are non-empty intervals', 'valid_from < valid_to'),
    test.acceptedValues('movement', ['Initial', 'Forward', 'Backward']),
    test.expression('the first period is the initial one', "(period_number = 1 AND movement = 'Initial') OR (period_number > 1 AND movement <> 'Initial')"),
  ],
});

export const factDeals = sqlModel({
  name: 'gold.fact_deals',
  file: 'gold/fact_deals.sql',
  description: 'One row per deal as it is now: weighted amount, days open, sales cycle days, stage changes, keyed to account and contact.',
  key: ['deal_id'],
  columns: [
    req('deal_id', ID),
    ...accountAndContact,
    req('deal_name', NAME),
    req('stage', ENUM),
    req('amount', decimal(14, 2)),
    req('probability', int),
    req('weighted_amount', decimal(14, 2)),
    col('expected_close_date', date),
    col('owner', NAME),
    req('created_at', timestamp),
    col('closed_at', timestamp),
    req('is_closed', bool),
    req('is_won', bool),
    req('is_overdue', bool),
    req('days_open', int),
    col('sales_cycle_days', int),
    req('stage_changes', int),
    req('created_date_key', int),
    col('closed_date_key', int),
    req('updated_date', date),
  ],
  ...byChangeDate,
  tests: [
    ...keyTests,
    test.relationships('deal_id', tableOf(factDealStageHistory), 'deal_id'),
    test.acceptedRange('probability', { min: 0, max: 100 }),
    test.expression('weighted within the amount', 'weighted_amount >= 0 AND weighted_amount <= amount'),
    test.expression('a sales cycle exactly when closed', '(is_closed = 1 AND sales_cycle_days IS NOT NULL) OR (is_closed = 0 AND sales_cycle_days IS NULL)'),
  ],
});

export const factActivities = sqlModel({
  name: 'gold.fact_activities',
  file: 'gold/fact_activities.sql',
  description: 'One row per activity: completed and overdue flags (as of the data), date keys, keyed to account and contact.',
  key: ['activity_id'],
  columns: [
    req('activity_id', ID),
    req('activity_type', ENUM),
    ...accountAndContact,
    col('deal_id', ID),
    col('owner', NAME),
    req('activity_at', timestamp),
    col('due_at', timestamp),
    col('completed_at', timestamp),
    req('is_completed', bool),
    req('is_overdue', bool),
    req('activity_date_key', int),
    col('due_date_key', int),
    col('completed_date_key', int),
    req('updated_date', date),
  ],
  ...byChangeDate,
  // (keys to the dimensions by construction; the relationships tests sit on deals and orders)
  tests: [test.expression('a completed activity is not overdue', 'is_completed = 0 OR is_overdue = 0')],
});

export const factTickets = sqlModel({
  name: 'gold.fact_tickets',
  file: 'gold/fact_tickets.sql',
  description: 'One row per support ticket: first-response and resolution hours, SLA met by priority (as of the data), CSAT, keyed to account and contact.',
  key: ['ticket_id'],
  columns: [
    req('ticket_id', ID),
    ...accountAndContact,
    req('channel', ENUM),
    req('issue_type', LABEL),
    req('priority', ENUM),
    req('status', ENUM),
    req('created_at', timestamp),
    col('first_response_at', timestamp),
    col('resolved_at', timestamp),
    col('first_response_hours', decimal(18, 3)),
    col('resolution_hours', decimal(18, 3)),
    req('response_target_hours', int),
    req('resolution_target_hours', int),
    col('first_response_sla_met', bool),
    col('resolution_sla_met', bool),
    col('sla_met', bool),
    col('csat_score', int),
    col('is_csat_positive', bool),
    req('is_resolved', bool),
    req('created_date_key', int),
    req('updated_date', date),
  ],
  ...byChangeDate,
  tests: [
    test.acceptedRange('csat_score', { min: 1, max: 5 }),
    test.expression('resolved after created', 'resolution_hours IS NULL OR resolution_hours >= 0'),
    test.expression('an answered ticket has a first-response verdict', 'first_response_hours IS NULL OR first_response_sla_met IS NOT NULL'),
  ],
});

export const factOrders = sqlModel({
  name: 'gold.fact_orders',
  file: 'gold/fact_orders.sql',
  description: 'One row per order: lines, units, revenue, cost and margin of the lines that count as revenue, fulfilment days, keyed to account and contact.',
  key: ['order_id'],
  columns: [
    req('order_id', ID),
    ...accountAndContact,
    req('order_status', ENUM),
    req('ordered_at', timestamp),
    col('shipped_at', timestamp),
    col('delivered_at', timestamp),
    req('line_count', int),
    req('units', int),
    req('gross_amount', decimal(18, 2)),
    req('revenue', decimal(18, 2)),
    col('cost', decimal(18, 2)),
    col('margin', decimal(18, 2)),
    req('counts_as_revenue', bool),
    col('fulfilment_days', int),
    req('order_date_key', int),
    req('updated_date', date),
  ],
  ...byChangeDate,
  tests: [...keyTests, test.acceptedRange('line_count', { min: 1 }), test.expression('revenue within the gross amount', 'revenue >= 0 AND revenue <= gross_amount')],
});

export const factOrderLines = sqlModel({
  name: 'gold.fact_order_lines',
  file: 'gold/fact_order_lines.sql',
  description: 'One row per order line: revenue, discount, cost (the product\'s current unit cost) and margin, keyed to account, contact, product and order.',
  key: ['order_id', 'line_number'],
  columns: [
    req('order_id', ID),
    req('line_number', int),
    req('account_key', int),
    req('contact_key', int),
    req('product_key', int),
    col('account_id', ID),
    col('contact_id', ID),
    req('product_id', ID),
    req('quantity', int),
    req('unit_price', decimal(10, 2)),
    req('discount', decimal(5, 4)),
    req('gross_amount', decimal(18, 2)),
    req('discount_amount', decimal(18, 2)),
    req('revenue', decimal(18, 2)),
    col('unit_cost', decimal(10, 2)),
    col('cost', decimal(18, 2)),
    col('margin', decimal(18, 2)),
    req('order_status', ENUM),
    req('counts_as_revenue', bool),
    req('ordered_at', timestamp),
    col('shipped_at', timestamp),
    col('delivered_at', timestamp),
    col('fulfilment_days', int),
    req('order_date_key', int),
    req('updated_date', date),
  ],
  ...byChangeDate,
  tests: [
    test.relationships('product_key', tableOf(dimProducts), 'product_key', { where: 'product_key <> -1' }),
    test.relationships('order_id', tableOf(factOrders), 'order_id'),
    test.acceptedRange('discount', { min: 0, max: 1 }),
  ],
});

// ---- gold: metrics -------------------------------------------------------------------------------

const REVENUE_MEASURES: ColumnDef[] = [
  req('revenue', decimal(24, 2)),
  req('orders', int),
  req('units', bigint),
  req('customers', int),
  col('aov', decimal(18, 2)),
  col('revenue_per_customer', decimal(18, 2)),
  col('revenue_prior_year', decimal(24, 2)),
  col('revenue_yoy_change', decimal(24, 2)),
  col('revenue_yoy_change_pct', decimal(18, 4)),
  req('is_partial_period', bool),
  req('as_of_date', date),
];

const revenueTests = (period: string) => [
  test.acceptedRange('revenue', { min: 0 }),
  test.expression('a partial period is not compared', 'is_partial_period = 0 OR revenue_yoy_change IS NULL'),
  test.metricStability({ period, metrics: ['revenue', 'orders', 'units', 'customers'], closed: 'is_partial_period = 0' }),
];

export const mtrRevenueByMonth = sqlModel({
  name: 'gold.mtr_revenue_by_month',
  file: 'gold/mtr_revenue_by_month.sql',
  description: 'Revenue, orders, units, customers, AOV and revenue per customer per calendar month, with the change against the same month a year before and a partial-period flag.',
  key: ['month_start'],
  columns: [req('month_start', date), req('year', int), req('month', int), ...REVENUE_MEASURES],
  refresh: 'full',
  tests: revenueTests('month_start'),
});

export const mtrRevenueByYear = sqlModel({
  name: 'gold.mtr_revenue_by_year',
  file: 'gold/mtr_revenue_by_year.sql',
  description: 'Revenue, orders, units, customers, AOV and revenue per customer per calendar year, with the change against the year before (not for a partial year).',
  key: ['year'],
  columns: [req('year', int), ...REVENUE_MEASURES],
  refresh: 'full',
  tests: revenueTests('year'),
});

const share = decimal(9, 6);

export const mtrProductPerformance = sqlModel({
  name: 'gold.mtr_product_performance',
  file: 'gold/mtr_product_performance.sql',
  description: 'Per product: revenue, units, margin, rank, revenue share and cumulative share (concentration), and the same for its category.',
  key: ['product_key'],
  columns: [
    req('product_key', int),
    col('product_id', ID),
    req('product_name', NAME),
    req('category', LABEL),
    req('revenue', decimal(24, 2)),
    req('units', bigint),
    req('orders', int),
    col('cost', decimal(24, 2)),
    col('margin', decimal(24, 2)),
    col('margin_pct', decimal(9, 4)),
    req('revenue_rank', int),
    col('revenue_share', share),
    col('cumulative_share', share),
    req('category_revenue', decimal(24, 2)),
    col('category_share', share),
    req('category_rank', int),
    col('category_cumulative_share', share),
    col('share_of_category', share),
  ],
  refresh: 'full',
  tests: [test.acceptedRange('revenue_share', { min: 0, max: 1 }), test.acceptedRange('cumulative_share', { min: 0, max: 1 }), test.acceptedRange('revenue_rank', { min: 1 })],
});

export const mtrCustomerSegmentSummary = sqlModel({
  name: 'gold.mtr_customer_segment_summary',
  file: 'gold/mtr_customer_segment_summary.sql',
  description: 'Contacts, support-engaged contacts, tickets, orders and revenue by income segment × gender × account revenue segment.',
  key: ['income_segment', 'gender', 'revenue_segment'],
  columns: [
    req('income_segment', ENUM),
    req('gender', ENUM),
    req('revenue_segment', ENUM),
    req('contacts', int),
    req('support_engaged_contacts', int),
    req('tickets', int),
    req('orders', int),
    req('revenue', decimal(24, 2)),
    col('revenue_per_contact', decimal(18, 2)),
  ],
  refresh: 'full',
  tests: [test.expression('engaged contacts are contacts', 'support_engaged_contacts <= contacts'), test.acceptedRange('revenue', { min: 0 })],
});

const HOURS = decimal(14, 3);

export const mtrSupportPerformance = sqlModel({
  name: 'gold.mtr_support_performance',
  file: 'gold/mtr_support_performance.sql',
  description: 'Per ticket channel and month: tickets, first-response and resolution hours (median, P75, P95, mean), CSAT mean and positive share, SLA compliance, top issue types.',
  key: ['channel', 'month_start'],
  columns: [
    req('channel', ENUM),
    req('month_start', date),
    req('tickets', int),
    req('responded', int),
    req('resolved', int),
    col('first_response_hours_median', HOURS),
    col('first_response_hours_p75', HOURS),
    col('first_response_hours_p95', HOURS),
    col('first_response_hours_mean', HOURS),
    col('resolution_hours_median', HOURS),
    col('resolution_hours_p75', HOURS),
    col('resolution_hours_p95', HOURS),
    col('resolution_hours_mean', HOURS),
    req('csat_answers', int),
    col('csat_mean', decimal(6, 3)),
    col('csat_positive_share', decimal(9, 4)),
    req('sla_decided', int),
    req('sla_met', int),
    col('sla_compliance', decimal(9, 4)),
    col('top_issue_type_1', LABEL),
    col('top_issue_type_2', LABEL),
    col('top_issue_type_3', LABEL),
    req('is_partial_period', bool),
  ],
  refresh: 'full',
  tests: [
    test.acceptedRange('csat_mean', { min: 1, max: 5 }),
    test.acceptedRange('csat_positive_share', { min: 0, max: 1 }),
    test.acceptedRange('sla_compliance', { min: 0, max: 1 }),
    test.expression('percentiles in order', 'first_response_hours_median <= first_response_hours_p75 AND first_response_hours_p75 <= first_response_hours_p95'),
    test.expression('resolution percentiles in order', 'resolution_hours_median <= resolution_hours_p75 AND resolution_hours_p75 <= resolution_hours_p95'),
    test.metricStability({ period: ['channel', 'month_start'], metrics: ['tickets'], closed: 'is_partial_period = 0' }),
  ],
});

export const mtrSalesPipeline = sqlModel({
  name: 'gold.mtr_sales_pipeline',
  file: 'gold/mtr_sales_pipeline.sql',
  description: 'Per deal stage: open deals, pipeline and weighted value, stage-to-stage conversion, average days in stage; with the win rate, average won deal size and median sales cycle.',
  key: ['stage'],
  columns: [
    req('stage', ENUM),
    req('stage_order', int),
    req('open_deals', int),
    req('pipeline_value', decimal(24, 2)),
    req('weighted_value', decimal(24, 2)),
    req('deals_entered', int),
    req('deals_advanced', int),
    col('conversion_rate', decimal(9, 4)),
    col('avg_days_in_stage', decimal(10, 2)),
    req('won_deals', int),
    req('lost_deals', int),
    col('win_rate', decimal(9, 4)),
    col('avg_won_deal_size', decimal(18, 2)),
    col('median_sales_cycle_days', decimal(10, 2)),
    col('as_of_date', date),
  ],
  refresh: 'full',
  tests: [
    test.acceptedRange('win_rate', { min: 0, max: 1 }),
    test.acceptedRange('conversion_rate', { min: 0, max: 1 }),
    test.expression('advanced deals entered', 'deals_advanced <= deals_entered'),
  ],
});

export const mtrWeeklyOps = sqlModel({
  name: 'gold.mtr_weekly_ops',
  file: 'gold/mtr_weekly_ops.sql',
  description: 'Per ISO week: tickets, median first-response and resolution hours, CSAT-positive share, SLA violators, and the trailing-52-week revenue of the accounts at risk that week.',
  key: ['week_start'],
  columns: [
    req('week_start', date),
    req('iso_year', int),
    req('iso_week', int),
    req('tickets', int),
    col('median_first_response_hours', HOURS),
    col('median_resolution_hours', HOURS),
    req('csat_answers', int),
    col('csat_positive_share', decimal(9, 4)),
    req('sla_violators', int),
    req('accounts_at_risk', int),
    req('revenue_at_risk', decimal(24, 2)),
    req('is_partial_period', bool),
  ],
  refresh: 'full',
  tests: [test.acceptedRange('revenue_at_risk', { min: 0 }), test.expression('ISO week numbers', 'iso_week >= 1 AND iso_week <= 53')],
});

/** Every model of the domain; the graph orders them. */
export const CRM_MODELS = [
  crmAsOf,
  stgCrmAccounts,
  stgCrmContacts,
  stgCrmProducts,
  stgCrmDeals,
  stgCrmActivities,
  stgCrmTickets,
  stgCrmOrderLines,
  crmAccountKeys,
  crmContactKeys,
  crmProductKeys,
  dimAccounts,
  dimContacts,
  dimProducts,
  factDealStageHistory,
  factDeals,
  factActivities,
  factTickets,
  factOrders,
  factOrderLines,
  mtrRevenueByMonth,
  mtrRevenueByYear,
  mtrProductPerformance,
  mtrCustomerSegmentSummary,
  mtrSupportPerformance,
  mtrSalesPipeline,
  mtrWeeklyOps,
];
