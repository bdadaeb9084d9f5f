/**
 * A small warehouse for the report tests, built through the real pipeline (upload ingest of a CRM
 * file, usage bronze files, the CRM warehouse's exports, the transform), whose figures are worked
 * out by hand below. Two company names and a product name are hostile: the report must show them
 * as text.
 */
import { dateRange } from '../../functions/core/dates.js';
import { runUploadIngest } from '../../functions/ingest/uploadIngest.js';
import { runTransform, type TransformOutcome } from '../../functions/transform/transform.js';
import { uploadCrm } from './crm.js';
import { putBlob, putUsageBronzeFile, type TestContext, type TestStorage } from './pipeline.js';

export const SCRIPT_NAME = '<script>alert("x")</script>';
export const IMG_NAME = 'Beta "><img src=x onerror=alert(1)>';

// A: 2 users and 20 events every day; never contacted.
// B: 5 users and 50 events on Jan 1-3, then nothing; last contacted 2023-11-01 (more than 30 days
//    before Jan 10, when its 7-day window empties): at churn risk from Jan 10.
// C: only in the CRM, never contacted: at churn risk every day.
// D: 1 user and 10 events every day; contacted 2024-01-05.
// B and C have hostile names (an <img> with a handler, a <script>): the churn list shows both.
export const FIXTURE_CRM = [
  'company_id,name,country,industry_tag,last_contact_at,snapshot_date',
  'A,Alpha,DE,saas,,2024-01-01',
  `B,"${IMG_NAME.replace(/"/g, '""')}",FR,retail,2023-11-01T09:00:00Z,2024-01-01`,
  `C,"${SCRIPT_NAME.replace(/"/g, '""')}",US,media,,2024-01-01`,
  'D,Delta,DE,saas,2024-01-05T10:00:00Z,2024-01-01',
].join('\n');

export const FIXTURE_FIRST_DAY = '2024-01-01';
export const FIXTURE_LAST_DAY = '2024-01-14';

export function fixtureUsage(date: string): { company_id: string; active_users: number; events: number }[] {
  const day = Number(date.slice(8, 10));
  return [
    { company_id: 'A', active_users: 2, events: 20 },
    ...(day <= 3 ? [{ company_id: 'B', active_users: 5, events: 50 }] : []),
    { company_id: 'D', active_users: 1, events: 10 },
  ];
}

/**
 * The figures on the last day (Jan 14) and 7 days earlier (Jan 7), by hand:
 * - active users: A 2 + D 1 = 3 on both days.
 * - events in the 7 days to the day: Jan 14: A 7×20 + D 7×10 = 210; Jan 7 (Jan 1-7): 140 + 70 + B 3×50 = 360.
 * - active companies (an active user in those 7 days): Jan 14: A, D = 2; Jan 7: A, B, D = 3.
 * - at churn risk: Jan 14: B, C = 2; Jan 7: C = 1 (B was active within its window).
 * - companies: 4 on every day (each has a CRM snapshot from Jan 1).
 * - events on Jan 14: A 20 + D 10 = 30.
 */
export const FIXTURE_FIGURES = {
  'company_activity.active_users': { value: 3, previous: 3 },
  'company_activity.events_7d': { value: 210, previous: 360 },
  'company_activity.active_companies': { value: 2, previous: 3 },
  'company_activity.companies_at_risk': { value: 2, previous: 1 },
} as const;

/** The churn list on Jan 14, in the report's order: never contacted first (C), then the oldest contact (B). */
export const FIXTURE_AT_RISK = [SCRIPT_NAME, IMG_NAME];

// ---- the CRM warehouse's exports (its report pages: revenue, support, sales pipeline) -----------

export const HOSTILE_PRODUCT = '<img src=x onerror=alert(2)> Suite';

/** An order of one line (or more): written when it was placed; A1 and contact C1 unless said. */
const line = (order: string, n: number, day: string, product: string, quantity: number, price: string, account = 'A1') => ({
  order_id: order,
  line_number: String(n),
  product_id: product,
  quantity: String(quantity),
  unit_price: price,
  account_id: account,
  ordered_at: `${day}T10:00:00Z`,
  updated_at: `${day}T10:00:00Z`,
});

/** A medium-priority ticket (SLA targets 8 h to respond, 120 h to resolve) created at midnight UTC on `day`. */
const ticket = (id: string, channel: string, day: string, response: number, resolution: number | null, csat = '', updated?: string) => {
  const at = (hours: number) => new Date(Date.parse(`${day}T00:00:00Z`) + hours * 3_600_000).toISOString().replace('.000', '');
  return {
    ticket_id: id,
    channel,
    created_at: `${day}T00:00:00Z`,
    first_response_at: at(response),
    resolved_at: resolution === null ? '' : at(resolution),
    status: resolution === null ? 'open' : 'resolved',
    csat_score: csat,
    updated_at: updated ?? at(resolution ?? response),
  };
};

/** Every version of a deal: `[stage, day]` in order; closed at its last version's day when closed. */
const deal = (id: string, amount: string, versions: [string, string][]) =>
  versions.map(([stage, day]) => ({
    deal_id: id,
    stage,
    amount,
    probability: { prospecting: '10', qualification: '25', proposal: '50', negotiation: '75', closed_won: '100', closed_lost: '0' }[stage]!,
    created_at: `${versions[0]![1]}T09:00:00Z`,
    updated_at: `${day}T09:00:00Z`,
    closed_at: stage.startsWith('closed') ? `${day}T09:00:00Z` : '',
  }));

export const FIXTURE_CRM_EXPORTS = {
  crm_accounts: ['A1', 'A2', 'A3'].map((a) => ({ account_id: a, account_name: `Account ${a}`, created_at: '2022-11-01T09:00:00Z', updated_at: '2022-11-01T09:00:00Z' })),
  crm_contacts: [{ contact_id: 'C1', account_id: 'A1', created_at: '2022-11-01T09:00:00Z', updated_at: '2022-11-01T09:00:00Z' }],
  crm_products: [
    { product_id: 'P1', product_name: 'Widget', category: 'Hardware', unit_price: '100.00', updated_at: '2022-11-01T09:00:00Z' },
    { product_id: 'P2', product_name: 'Gadget', category: 'Hardware', unit_price: '50.00', updated_at: '2022-11-01T09:00:00Z' },
    { product_id: 'P3', product_name: HOSTILE_PRODUCT, category: 'Software', unit_price: '200.00', updated_at: '2022-11-01T09:00:00Z' },
    { product_id: 'P4', product_name: 'Setup', category: 'Services', unit_price: '100.00', updated_at: '2022-11-01T09:00:00Z' },
  ],
  crm_order_lines: [
    line('O1', 1, '2022-12-01', 'P1', 1, '100.00'), // 100
    line('O2', 1, '2023-11-10', 'P2', 2, '50.00', 'A2'), // 100
    line('O3', 1, '2023-12-05', 'P1', 3, '100.00'), // 300
    line('O3', 2, '2023-12-05', 'P3', 1, '200.00'), // 200: the order is 500
    line('O4', 1, '2023-12-20', 'P4', 1, '100.00', 'A2'), // 100
    line('O5', 1, '2024-01-10', 'P1', 1, '100.00', 'A3'), // 100
  ],
  crm_tickets: [
    ticket('E1', 'email', '2023-12-01', 1, 10, '5'),
    ticket('S1', 'social', '2023-12-04', 12, 48, '2'),
    ticket('E2', 'email', '2023-12-05', 3, 30, '4'),
    ticket('E3', 'email', '2023-12-06', 2, 20, '3'),
    ticket('S2', 'social', '2023-12-07', 20, 200, '1'),
    ticket('H1', 'chat', '2023-12-11', 0.5, 2, '5'),
    ticket('E4', 'email', '2024-01-02', 2, 12, '4'),
    ticket('S3', 'social', '2024-01-03', 10, 60, '3'),
    ticket('E5', 'email', '2024-01-09', 1, 5, '5'),
    ticket('H2', 'chat', '2024-01-10', 1, 3),
    // still open; its update is the CRM's latest: the as-of moment 2024-01-14 12:00
    ticket('S4', 'social', '2024-01-11', 6, null, '', '2024-01-14T12:00:00Z'),
  ],
  crm_deals: [
    ...deal('D1', '1000.00', [['prospecting', '2023-11-01'], ['proposal', '2023-11-05'], ['qualification', '2023-11-10'], ['closed_won', '2023-12-20']]),
    ...deal('D2', '500.00', [['prospecting', '2023-11-01'], ['qualification', '2023-11-03'], ['closed_lost', '2023-11-13']]),
    ...deal('D5', '400.00', [['prospecting', '2023-11-15'], ['closed_won', '2023-11-25']]),
    ...deal('D6', '300.00', [['prospecting', '2023-12-01'], ['closed_lost', '2023-12-15']]),
    ...deal('D7', '2000.00', [['prospecting', '2023-12-01'], ['proposal', '2023-12-05'], ['closed_won', '2023-12-10']]),
    ...deal('D3', '2000.00', [['prospecting', '2024-01-02'], ['proposal', '2024-01-06']]),
    ...deal('D4', '300.00', [['qualification', '2024-01-04']]),
  ],
} as const;

/**
 * The CRM figures, by hand (as of 2024-01-14, the latest updated_at: S4's):
 *
 * Revenue (mtr_revenue_by_month): months 2022-12 … 2024-01, the first order on 2022-12-01 (Dec 2022
 * is whole), Jan 2024 partial (to the 14th). The latest complete month is 2023-12: O3 500 + O4 100 =
 * 600 from 2 orders (AOV 300) by 2 accounts; the month before, 2023-11: O2 100, 1 order, 1 account.
 * A year before, 2022-12: 100 → +500, +500 %.
 *
 * Products: P1 100 + 300 + 100 = 500, P3 200, P2 100, P4 100 = 900: shares .555556, .222222, .111111,
 * .111111; running .555556, .777778, .888889, 1. The top 10 % of 4 products is 1 (P1): 55.6 %; P1 and
 * P3 are under 80 %, so 3 products make 80 %. Hardware 600 (66.7 %, 2 products), Software 200, Services 100.
 *
 * Support, the latest complete ISO week 2024-W02 (Jan 8-14) against W01 (Jan 1-7):
 *   first responses [1 (E5), 1 (H2), 6 (S4)] → median 1 h; W01 [2 (E4), 10 (S3)] → 6 h
 *   resolutions [5, 3] (S4 open) → 4 h; W01 [12, 60] → 36 h
 *   CSAT answers: W02 E5's 5 → 1 of 1 positive, 100 %; W01 4 and 3 → 50 %
 *   SLA breaches: W02 none (S4's resolution clock runs: 84 h of 120); W01 S3 answered after 10 h of 8: 1
 *   revenue at risk: W01 S3's account A1, its revenue in the 52 weeks to the week: O3 500; W02 0
 * and per channel in December 2023 (the latest complete month: the first ticket is on Dec 1):
 *   email  first response [1, 3, 2] → median 2, P75 2.5, P95 2.9; resolution [10, 30, 20] → 20, 25, 29;
 *          CSAT 5, 4, 3: 2 of 3 positive; SLA 3 of 3
 *   social first response [12, 20] → 16, 18, 19.6; resolution [48, 200] → 124, 162, 192.4;
 *          CSAT 2, 1: 0 of 2; SLA 0 of 2 (both answered late)
 *   chat   0.5 h, resolved in 2 h; CSAT 5; SLA 1 of 1
 * Social is the slowest channel: 16 h, 8 × email's 2 h.
 *
 * Sales pipeline: won D1 (Dec 20, 49 days from Nov 1), D5 (Nov 25, 10 days), D7 (Dec 10, 9 days);
 * lost D2 (Nov 13), D6 (Dec 15): win rate 3 / 5 = 60 %, median cycle 10 days, average won deal
 * (1000 + 400 + 2000) / 3 = 1,133.33. Deals closed in 2023-12: 2 won, 1 lost = 66.7 %; 2023-11: 1 and 1 = 50 %.
 * Open: D3 in proposal 2000 × 50 % = 1000, D4 in qualification 300 × 25 % = 75: weighted 1,075 of 2,300.
 * Funnel: prospecting entered by the 6 deals that started there, 5 went on (not D6); qualification by
 * D1, D2, D4, 1 went on (D1, won; D2 was lost); proposal by D1, D7, D3, 2 went on (D1 after a step
 * back, D7): qualification converts least, 1 of 3 (33.3 %).
 */
export const FIXTURE_CRM_FIGURES = {
  'crm.revenue_month': { value: '600', change: '▲ 500 (+500.0 %) vs the month before (2023-11) · better' },
  'crm.orders_month': { value: '2', change: '▲ 1 (+100.0 %) vs the month before (2023-11) · better' },
  'crm.aov_month': { value: '300.00', change: '▲ 200.00 (+200.0 %) vs the month before (2023-11) · better' },
  'crm.customers_month': { value: '2', change: '▲ 1 (+100.0 %) vs the month before (2023-11) · better' },
  'crm.top_products_share': { value: '55.6 %' },
  'crm.products_for_80pct': { value: '3' },
  'crm.top_category_share': { value: '66.7 %' },
  'crm.median_first_response_week': { value: '1.0 h', change: '▼ 5.0 h (−83.3 %) vs the week before (2024-W01) · better' },
  'crm.median_resolution_week': { value: '4.0 h', change: '▼ 32.0 h (−88.9 %) vs the week before (2024-W01) · better' },
  'crm.csat_positive_week': { value: '100.0 %', change: '▲ 50.0 pts vs the week before (2024-W01) · better' },
  'crm.sla_violators_week': { value: '0', change: '▼ 1 (−100.0 %) vs the week before (2024-W01) · better' },
  'crm.revenue_at_risk_week': { value: '0', change: '▼ 500 (−100.0 %) vs the week before (2024-W01) · better' },
  'crm.win_rate_month': { value: '66.7 %', change: '▲ 16.7 pts vs the month before (2023-11) · better' },
  'crm.win_rate': { value: '60.0 %' },
  'crm.median_sales_cycle': { value: '10.0 days' },
  'crm.avg_won_deal': { value: '1,133' },
  'crm.weighted_pipeline': { value: '1,075' },
} as const;

// ---- customer analytics (its report page: Customers) ---------------------------------------------

/** A customer's first name that is hostile: the campaign list must show it as text. */
export const HOSTILE_CUSTOMER = '<img src=x onerror=alert(3)>';

export const FIXTURE_CUSTOMERS = [
  'customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,customer_segment,decline_type,updated_at',
  'P,Pia,Park,pia@example.com,41,NY,New York,Employed,Visa,5000,2020-01-01,,,2022-11-01',
  'Q,Quinn,Quist,q@example.com,29,TX,Austin,Employed,Visa,2000,2021-01-01,,,2022-11-01',
  'R,Raj,Rao,raj@example.com,35,CA,Fresno,Student,Mastercard,1000,2022-01-01,,,2022-11-01',
  `S,"${HOSTILE_CUSTOMER}",Sato,sue@example.com,58,WA,Seattle,Retired,Amex,9000,2015-01-01,,,2022-11-01`,
].join('\n');

export const FIXTURE_TRANSACTIONS = [
  'transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status',
  'S1,S,2022-12-01,400.00,Shop,Travel,Online,approved',
  'P1,P,2023-06-10,100.00,Shop,Groceries,Online,approved',
  'Q1,Q,2023-11-20,300.00,Shop,Electronics,Online,approved',
  'R1,R,2023-12-02,80.00,Shop,Groceries,Mobile,approved',
  'P2,P,2023-12-10,200.00,Shop,Electronics,Online,approved',
  'R2,R,2024-01-03,120.00,Shop,Groceries,Mobile,approved',
  'R3,R,2024-01-05,999.00,Shop,Electronics,Mobile,declined',
  'P3,P,2024-01-14,50.00,Shop,Groceries,In-Store,approved',
].join('\n');

/**
 * The customer figures, by hand (as of 2024-01-14, the last transaction date; data from 2022-12-01):
 *
 *   S 2022-12-01 400                          409 days idle: Lost; one-time buyer
 *   P 2023-06-10 100, 2023-12-10 200, 2024-01-14 50    LTV 350; first purchase 218 days ago: Regular
 *   Q 2023-11-20 300                          New (55 days); one-time buyer
 *   R 2023-12-02 80, 2024-01-03 120 (and 999 declined on 01-05, not spend)   LTV 200; New (43 days)
 *
 * Monthly (every month from 2022-12, January 2024 partial): the latest complete month 2023-12 has
 * P 200 + R 80 = 280 from 2 purchases by 2 customers (R new, P returning), AOV 140; 2023-11 has Q's
 * 300 (1 purchase, 1 customer, AOV 300): −20 (−6.7 %), +1 customer, AOV −160 (−53.3 %). A year
 * before, 2022-12: 400 → −30 % (business_insights' revenue_yoy, High priority).
 * Customers who bought: 4; one-time buyers S and Q: 2 of 4 = 50 %.
 * Segments: Lost 1 (S, LTV 400), New 2 (Q, R: 500), Regular 1 (P: 350); nobody is in the top 20 %
 * (rank 1 × 100 > 4 × 20).
 * Churn (too little history for the model: the heuristic, 0.7 × min(idle / 365, 1) + 0.3 × (1 −
 * min(purchases in 365 days / 12, 1))): S 0.7 + 0.3 = 100; Q 0.7 × 55/365 + 0.3 × 11/12 = 38;
 * R 0.7 × 11/365 + 0.3 × 10/12 = 27; P 0 + 0.3 × 9/12 = 22.5, rounded
 * half away from zero (round_to) = 23. High risk (≥ 70): S alone, LTV 400.
 * Score bands: 20–29 P and R, 30–39 Q, 90–100 S. LTV bands: 100–250 R, 250–500 P, Q, S.
 * Cohorts: 2023-06 (P) retained in months 6 and 7 (100 %), 0 % in months 1–5.
 * Campaigns: S Retention (churn score ≥ 70, LTV ≥ 200), P Cross-Sell (Regular, spend up), both Medium.
 */
export const FIXTURE_CUSTOMER_FIGURES = {
  'customers.revenue_month': { value: '280', change: '▼ 20 (−6.7 %) vs the month before (2023-11) · worse' },
  'customers.customers_month': { value: '2', change: '▲ 1 (+100.0 %) vs the month before (2023-11) · better' },
  'customers.aov_month': { value: '140.00', change: '▼ 160.00 (−53.3 %) vs the month before (2023-11) · worse' },
  'customers.customers': { value: '4' },
  'customers.one_time_buyers': { value: '50.0 %' },
  'customers.high_churn_risk': { value: '1' },
  'customers.high_churn_risk_value': { value: '400' },
} as const;

/** Uploads the CRM file, writes Jan 1-14's usage to bronze, uploads the CRM warehouse's exports and runs the transform (which writes the report). */
export async function buildFixtureWarehouse(ctx: TestContext, storage: TestStorage, options: { crmWarehouse?: boolean; customers?: boolean } = {}): Promise<TransformOutcome> {
  await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', FIXTURE_CRM);
  await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
  for (const d of dateRange(FIXTURE_FIRST_DAY, FIXTURE_LAST_DAY)) await putUsageBronzeFile(storage.storage, d, fixtureUsage(d));
  if (options.crmWarehouse ?? true) {
    for (const [source, rows] of Object.entries(FIXTURE_CRM_EXPORTS)) await uploadCrm(ctx, storage, source as keyof typeof FIXTURE_CRM_EXPORTS, `${source}.csv`, [...rows]);
  }
  if (options.customers ?? true) {
    await putBlob(storage.storage, 'landing', 'customers/customers.csv', FIXTURE_CUSTOMERS);
    await runUploadIngest(ctx, 'customers/customers.csv');
    await putBlob(storage.storage, 'landing', 'transactions/transactions.csv', FIXTURE_TRANSACTIONS);
    await runUploadIngest(ctx, 'transactions/transactions.csv');
  }
  return runTransform(ctx);
}
