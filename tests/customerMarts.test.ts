/**
 * The customer marts on a small hand-made history, on every engine. Ten customers who bought
 * (A … K) and two who did not (J: one declined transaction; Z: a customer record only), their
 * expected figures worked out below by hand (days counted with 2024 a leap year). The as-of date
 * is the data's last transaction date, 2024-06-30, unless ANALYTICS_AS_OF_DATE says otherwise.
 *
 *   id  purchases (approved, > 0)                           notes
 *   A   2023-06-30 100                                      last purchase 366 days before: Lost
 *   B   2023-07-01 60                                       365 days: not Lost; churn 100: At Risk
 *   C   2024-04-01 20                                       first purchase 90 days before: New
 *   D   2024-03-31 30, 2024-06-30 30                        91 days: not New; Regular
 *   E   2024-01-10 500, 2024-05-01 700, 2024-06-15 800      LTV rank 1 of 10: High Value
 *   F   2023-09-01 100, 2024-01-15 200, 2024-03-10 200, 2024-06-01 500   rank 3: outside the top 20 %
 *   G   2023-08-15 450, 2024-02-01 450                      no spend in the last 90 days, 450 before: At Risk
 *   H   2024-05-10 80; a refund of 20 on 05-12; 500 declined on 05-13   LTV 60; New
 *   I   2023-07-15 1500                                     rank 2 (in the top 2 of 10), 351 days idle
 *   K   2024-06-20 10                                       New
 *   J   2024-06-30 75 declined                              no purchase: no segment; account opened 29 days before
 *   Z   (a customer record only)                            account opened 2024-01-01, 181 days before
 *
 * Top 20 %: rank × 100 <= 10 × 20, so ranks 1 and 2 (E, I). B, D and H tie at 60 (rank 6).
 * The history (2023-06-30 … 2024-06-30) has one training snapshot (2023-12-31) and a holdout
 * (2024-03-31), but 5 training rows and no 20 churners: the heuristic scores, and says why.
 *   p = 0.7 × min(days since last purchase / 365, 1) + 0.3 × (1 - min(purchases in 365 days / 12, 1))
 */
import { describe, expect, it } from 'vitest';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const TRANSACTIONS = [
  'transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status',
  'A1,A,2023-06-30,100.00,Shop,Groceries,Online,approved',
  'B1,B,2023-07-01,60.00,Shop,Groceries,Online,approved',
  'I1,I,2023-07-15,1500.00,Shop,Travel,Online,approved',
  'G1,G,2023-08-15,450.00,Shop,Travel,Online,approved',
  'F1,F,2023-09-01,100.00,Shop,Groceries,Online,approved',
  'E1,E,2024-01-10,500.00,Shop,Electronics,Online,approved',
  'F2,F,2024-01-15,200.00,Shop,Groceries,Online,approved',
  'G2,G,2024-02-01,450.00,Shop,Travel,Online,approved',
  'F3,F,2024-03-10,200.00,Shop,Groceries,Online,approved',
  'D1,D,2024-03-31,30.00,Shop,Groceries,Mobile,approved',
  'C1,C,2024-04-01,20.00,Shop,Groceries,Mobile,approved',
  'E2,E,2024-05-01,700.00,Shop,Electronics,Online,approved',
  'H1,H,2024-05-10,80.00,Shop,Groceries,In-Store,approved',
  'H2,H,2024-05-12,-20.00,Shop,Groceries,In-Store,approved',
  'H3,H,2024-05-13,500.00,Shop,Electronics,In-Store,declined',
  'F4,F,2024-06-01,500.00,Shop,Electronics,Online,approved',
  'E3,E,2024-06-15,800.00,Shop,Electronics,Online,approved',
  'K1,K,2024-06-20,10.00,Shop,Groceries,Mobile,approved',
  'D2,D,2024-06-30,30.00,Shop,Groceries,Mobile,approved',
  'J1,J,2024-06-30,75.00,Shop,Groceries,Online,declined',
].join('\n');

const CUSTOMERS = [
  'customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,customer_segment,decline_type,updated_at',
  'E,Emmy,Noether,emmy@example.com,42,NY,New York,Employed,Visa,9000,2010-01-01,Gold,,2023-01-01',
  'J,John,Doe,,30,TX,Austin,Student,Visa,500,2024-06-01,,Insufficient funds,2023-01-01',
  'Z,Zoe,Zed,,25,CA,Fresno,Employed,Mastercard,1000,2024-01-01,,,2023-01-01',
].join('\n');

const testStorage = useTestStorage();

const dec = (column: string) => `CAST(${column} AS VARCHAR(40)) AS ${column}`;

describe.each(ENGINES)('customer marts on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  async function build(env: Record<string, string> = {}) {
    const ctx = testContext({ storage, warehouse: wh, env });
    await putBlob(storage.storage, 'landing', 'customers/customers.csv', CUSTOMERS);
    await runUploadIngest(ctx, 'customers/customers.csv');
    await putBlob(storage.storage, 'landing', 'transactions/transactions.csv', TRANSACTIONS);
    await runUploadIngest(ctx, 'transactions/transactions.csv');
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });
    return ctx;
  }

  const byId = async <T extends { customer_id: string }>(sql: string) => Object.fromEntries((await wh.query<T>(sql)).map((r) => [r.customer_id, r]));

  it('puts each customer in exactly one segment, with the rule, at the 90/91, 365/366 and 20 % boundaries', async () => {
    await build();
    const s = await byId<{ customer_id: string; segment: string; segment_rule: string; ltv_rank: number; is_top_ltv: boolean }>(
      `SELECT customer_id, segment, segment_rule, ltv_rank, is_top_ltv FROM gold.customer_segments`,
    );
    expect(Object.keys(s).sort()).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'K']);
    expect(s.A).toMatchObject({ segment: 'Lost', segment_rule: 'no purchase for 366 days (more than 365)' });
    // B: 365 days is not Lost; no purchase in 365 days: p = 0.7 × 1 + 0.3 × 1 = 1 → score 100
    expect(s.B).toMatchObject({ segment: 'At Risk', segment_rule: 'churn risk 100 (at least 70)', ltv_rank: 6 });
    expect(s.C).toMatchObject({ segment: 'New', segment_rule: 'first purchase 90 days ago (at most 90)' });
    expect(s.D).toMatchObject({ segment: 'Regular', segment_rule: 'none of the rules above', ltv_rank: 6 });
    expect(s.E).toMatchObject({ segment: 'High Value', segment_rule: 'lifetime value rank 1 of 10 (top 20%), last purchase 15 days ago', is_top_ltv: true });
    // F: rank 3 of 10 is outside the top 2; spend 500 in the last 90 days against 400 before
    expect(s.F).toMatchObject({ segment: 'Regular', ltv_rank: 3, is_top_ltv: false });
    // G: 0 in the last 90 days (04-02 … 06-30) < 0.5 × 450 in the prior 90 (01-03 … 04-01)
    expect(s.G).toMatchObject({ segment: 'At Risk', segment_rule: 'spend in the last 90 days under 50% of the prior 90 days' });
    expect(s.H).toMatchObject({ segment: 'New', ltv_rank: 6 });
    // I: in the top 2 but idle for 351 days: not High Value; churn 0.7 × 351/365 + 0.3 × 11/12 = 0.948 → 95
    expect(s.I).toMatchObject({ segment: 'At Risk', segment_rule: 'churn risk 95 (at least 70)', is_top_ltv: true, ltv_rank: 2 });
    const [spend] = await wh.query(`SELECT ${dec('spend_last_90_days')}, ${dec('spend_prior_90_days')}, spend_trend, ${dec('spend_change_pct')} FROM gold.customer_segments WHERE customer_id = 'F'`);
    expect(spend).toEqual({ spend_last_90_days: '500.00', spend_prior_90_days: '400.00', spend_trend: 'Up', spend_change_pct: '25.00' });
  });

  it('scores churn with the heuristic when there is too little to learn from, and says so', async () => {
    await build();
    // score: the as-of date; holdout: the last month end <= 2024-06-30 - 90 = 2024-04-01, with 180 days
    // of history (2023-06-30 … 2024-03-31: 275); train: month ends <= 2024-03-31 - 90 = 2024-01-01 with
    // 180 days (2023-12-31: 184; 2023-11-30: 153, too short)
    expect(await wh.query(`SELECT snapshot_role, snapshot_date, label_end_date FROM silver.churn_snapshots ORDER BY snapshot_date`)).toEqual([
      { snapshot_role: 'train', snapshot_date: '2023-12-31', label_end_date: '2024-03-30' },
      { snapshot_role: 'holdout', snapshot_date: '2024-03-31', label_end_date: '2024-06-29' },
      { snapshot_role: 'score', snapshot_date: '2024-06-30', label_end_date: null },
    ]);
    const model = await wh.query<{ term: string; method: string; holdout_date: string | null; note: string }>(`SELECT term, method, holdout_date, note FROM gold.churn_model ORDER BY term`);
    expect(model.map((m) => m.term)).toEqual(['frequency_weight', 'purchases_for_full_frequency', 'recency_weight']);
    expect(model[0]!.method).toBe('heuristic');
    expect(model[0]!.note).toMatch(/^too little to learn from: 5 training rows, \d+ churned/);
    const p = await byId<{ customer_id: string; churn_risk_score: number; churn_probability: string; is_high_risk: boolean; prediction_date: string; method: string; days_since_last_purchase: number | null; purchases_365: number }>(
      `SELECT customer_id, churn_risk_score, ${dec('churn_probability')}, is_high_risk, prediction_date, method, days_since_last_purchase, purchases_365 FROM gold.churn_predictions`,
    );
    // 0.7 × days/365 + 0.3 × (1 - purchases/12): C 0.7 × 90/365 + 0.3 × 11/12 = 0.447603
    // never bought (no_purchase): 0.3 + 0.7 × days since the account opened/365: J 29 days 0.355616, Z 181 days 0.647123
    expect(Object.fromEntries(Object.entries(p).map(([id, r]) => [id, r.churn_risk_score]))).toEqual({ A: 100, B: 100, C: 45, D: 25, E: 25, F: 26, G: 54, H: 37, I: 95, J: 36, K: 29, Z: 65 });
    expect(p.C).toMatchObject({ churn_probability: '0.447603', is_high_risk: false, prediction_date: '2024-06-30', method: 'heuristic' });
    expect(p.J).toMatchObject({ churn_probability: '0.355616', method: 'no_purchase', days_since_last_purchase: null, purchases_365: 0 });
    expect(p.Z).toMatchObject({ churn_probability: '0.647123', method: 'no_purchase' });
    expect(p.I!.is_high_risk).toBe(true);
  });

  it('measures lifetime value and predicts the next 12 months', async () => {
    await build();
    const l = await byId<{ customer_id: string } & Record<string, string | number>>(
      `SELECT customer_id, ${dec('lifetime_value')}, purchases, purchase_days, ${dec('refund_amount')}, declined_count, tenure_days, ${dec('avg_spend_per_active_day')},
              ${dec('average_order_value')}, ${dec('expected_purchases_12m')}, ${dec('stay_probability_12m')}, ${dec('predicted_value_12m')}, prediction_method
       FROM gold.metric_customer_ltv`,
    );
    // H: 80 - 20 refund; the declined 500 never counts
    expect(l.H).toMatchObject({ lifetime_value: '60.00', purchases: 1, refund_amount: '20.00', declined_count: 1, tenure_days: 51, avg_spend_per_active_day: '60.00' });
    // E: 3 purchases over 172 + 1 days: 3 / 173 × 365 = 6.3295 a year, AOV 2000 / 3 = 666.67,
    // stay (1 - 0.253767)^(365/90) = 0.305095 → 6.32948 × 666.667 × 0.305095 = 1287.40
    expect(l.E).toMatchObject({ lifetime_value: '2000.00', purchases: 3, tenure_days: 172, average_order_value: '666.67', expected_purchases_12m: '6.3295', stay_probability_12m: '0.305095', predicted_value_12m: '1287.40' });
    // K: 10 days of history count as 90: 1 / 90 × 365 = 4.0556
    expect(l.K).toMatchObject({ expected_purchases_12m: '4.0556', predicted_value_12m: '9.87' });
    expect(l.A).toMatchObject({ stay_probability_12m: '0.000000', predicted_value_12m: '0.00' });
    expect(l.E!.prediction_method).toBe('expected purchases x average order value x (1 - churn probability)^(365/90); churn probability: heuristic');
  });

  it('compares each month with the calendar month before, zero when the customer bought nothing', async () => {
    await build();
    const rows = await wh.query<{ month_start: string; spend: string; previous_month_spend: string; spend_change: string; spend_change_pct: string | null; is_partial_month: boolean }>(
      `SELECT month_start, ${dec('spend')}, ${dec('previous_month_spend')}, ${dec('spend_change')}, ${dec('spend_change_pct')}, is_partial_month
       FROM gold.metric_mom_spend_change WHERE customer_id = 'G' ORDER BY month_start`,
    );
    // G: 2023-08 … 2024-06, eleven months, two with purchases
    expect(rows).toHaveLength(11);
    expect(rows[0]).toEqual({ month_start: '2023-08-01', spend: '450.00', previous_month_spend: '0.00', spend_change: '450.00', spend_change_pct: null, is_partial_month: false });
    expect(rows[1]).toEqual({ month_start: '2023-09-01', spend: '0.00', previous_month_spend: '450.00', spend_change: '-450.00', spend_change_pct: '-100.00', is_partial_month: false });
    expect(rows[2]).toMatchObject({ month_start: '2023-10-01', spend: '0.00', previous_month_spend: '0.00', spend_change_pct: null });
    expect(rows[6]).toMatchObject({ month_start: '2024-02-01', spend: '450.00', previous_month_spend: '0.00' });
    const [e] = await wh.query(`SELECT ${dec('spend_change_pct')} FROM gold.metric_mom_spend_change WHERE customer_id = 'E' AND month_start = '2024-06-01'`);
    expect(e).toEqual({ spend_change_pct: '14.29' }); // (800 - 700) / 700
  });

  it('gives the median of odd and even counts, the spread and a consistency band', async () => {
    await build();
    const v = await byId<{ customer_id: string } & Record<string, string | number | null>>(
      `SELECT customer_id, purchases, ${dec('mean_amount')}, ${dec('median_amount')}, ${dec('stddev_amount')}, ${dec('min_amount')}, ${dec('max_amount')}, ${dec('coefficient_of_variation')}, spending_consistency
       FROM gold.metric_avg_transaction_value`,
    );
    // E: 500, 700, 800: median 700; mean 666.67; sd √(((−166.67)² + 33.33² + 133.33²) / 2) = 152.75; cv 0.2291
    expect(v.E).toEqual({ customer_id: 'E', purchases: 3, mean_amount: '666.67', median_amount: '700.00', stddev_amount: '152.75', min_amount: '500.00', max_amount: '800.00', coefficient_of_variation: '0.2291', spending_consistency: 'Steady' });
    // F: 100, 200, 200, 500: median (200 + 200) / 2 = 200, mean 250; sd √(90000 / 3) = 173.21; cv 0.6928
    expect(v.F).toMatchObject({ purchases: 4, mean_amount: '250.00', median_amount: '200.00', stddev_amount: '173.21', coefficient_of_variation: '0.6928', spending_consistency: 'Variable' });
    // D: 30, 30: median 30, no spread
    expect(v.D).toMatchObject({ median_amount: '30.00', stddev_amount: '0.00', spending_consistency: 'Steady' });
    // H: the refund is not a purchase
    expect(v.H).toMatchObject({ purchases: 1, median_amount: '80.00', stddev_amount: null, coefficient_of_variation: null, spending_consistency: 'Single purchase' });
  });

  it('rounds an exact half-cent half away from zero on every engine (a float cast or ROUND straight to DECIMAL did not)', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await putBlob(storage.storage, 'landing', 'customers/customers.csv', CUSTOMERS);
    await runUploadIngest(ctx, 'customers/customers.csv');
    const halves = [TRANSACTIONS.split('\n')[0], 'X1,X,2024-06-10,1.00,Shop,Groceries,Online,approved', 'X2,X,2024-06-30,1.01,Shop,Groceries,Online,approved'].join('\n');
    await putBlob(storage.storage, 'landing', 'transactions/halves.csv', halves);
    await runUploadIngest(ctx, 'transactions/halves.csv');
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });
    // X: 1.00 and 1.01. Mean and median (1.00 + 1.01) / 2 = 1.005 → 1.01 (the float 1.00499999… rounded
    // straight: 1.00 on both engines)
    const [v] = await wh.query(`SELECT purchases, ${dec('mean_amount')}, ${dec('median_amount')} FROM gold.metric_avg_transaction_value WHERE customer_id = 'X'`);
    expect(v).toEqual({ purchases: 2, mean_amount: '1.01', median_amount: '1.01' });
    // June 2024: 2.01 over 2 orders = 1.005 → 1.01
    const [june] = await wh.query(`SELECT ${dec('revenue')}, orders, ${dec('average_order_value')} FROM gold.monthly_metrics WHERE month_start = '2024-06-01'`);
    expect(june).toEqual({ revenue: '2.01', orders: 2, average_order_value: '1.01' });
    // the score snapshot's aov_365: 2.01 / 2 = 1.005 → 1.01 (a DECIMAL / INT: exact on Azure SQL, 1.01; a float on DuckDB, 1.00)
    const [features] = await wh.query(`SELECT ${dec('aov_365')} FROM silver.customer_features WHERE customer_id = 'X' AND snapshot_role = 'score'`);
    expect(features).toEqual({ aov_365: '1.01' });
  });

  it('adds up months and cohorts, and their revenue is the fact’s', async () => {
    await build();
    const months = await wh.query<Record<string, string | number | boolean | null>>(
      `SELECT month_start, ${dec('revenue')}, orders, customers, new_customers, returning_customers, ${dec('average_order_value')}, declined_transactions, is_partial_period
       FROM gold.monthly_metrics ORDER BY month_start`,
    );
    // 2023-06 … 2024-06: 13 months, 2023-10 … 2023-12 without a sale
    expect(months.map((m) => m.month_start)).toHaveLength(13);
    // the data starts on 2023-06-30: June 2023 is partial; June 2024 ends on the as-of date: whole
    expect(months[0]).toMatchObject({ month_start: '2023-06-01', revenue: '100.00', is_partial_period: true });
    expect(months[4]).toMatchObject({ month_start: '2023-10-01', revenue: '0.00', orders: 0, customers: 0, average_order_value: null });
    // May 2024: H 80 - 20 + E 700 = 760 over 2 orders; H new, E returning; H's declined
    expect(months[11]).toEqual({ month_start: '2024-05-01', revenue: '760.00', orders: 2, customers: 2, new_customers: 1, returning_customers: 1, average_order_value: '380.00', declined_transactions: 1, is_partial_period: false });
    expect(months[12]).toMatchObject({ month_start: '2024-06-01', revenue: '1340.00', orders: 4, customers: 4, new_customers: 1, declined_transactions: 1, is_partial_period: false });
    const [total] = await wh.query(`SELECT ${dec('revenue')} FROM (SELECT SUM(revenue) AS revenue FROM gold.monthly_metrics) t`);
    expect(total).toEqual({ revenue: '5710.00' }); // 100 + 1560 + 450 + 100 + 700 + 450 + 230 + 20 + 760 + 1340

    const cohort = await wh.query<Record<string, string | number | boolean>>(
      `SELECT cohort_month, months_since_first, cohort_customers, active_customers, ${dec('retention_pct')}, ${dec('revenue')}, ${dec('revenue_per_customer')}
       FROM gold.cohort_analysis WHERE cohort_month IN ('2023-07-01', '2023-09-01') AND months_since_first IN (0, 1, 4) ORDER BY cohort_month, months_since_first`,
    );
    expect(cohort).toEqual([
      // B and I first bought in July 2023; neither again
      { cohort_month: '2023-07-01', months_since_first: 0, cohort_customers: 2, active_customers: 2, retention_pct: '100.00', revenue: '1560.00', revenue_per_customer: '780.00' },
      { cohort_month: '2023-07-01', months_since_first: 1, cohort_customers: 2, active_customers: 0, retention_pct: '0.00', revenue: '0.00', revenue_per_customer: '0.00' },
      { cohort_month: '2023-07-01', months_since_first: 4, cohort_customers: 2, active_customers: 0, retention_pct: '0.00', revenue: '0.00', revenue_per_customer: '0.00' },
      // F: September 2023, back in January 2024 (month 4)
      { cohort_month: '2023-09-01', months_since_first: 0, cohort_customers: 1, active_customers: 1, retention_pct: '100.00', revenue: '100.00', revenue_per_customer: '100.00' },
      { cohort_month: '2023-09-01', months_since_first: 1, cohort_customers: 1, active_customers: 0, retention_pct: '0.00', revenue: '0.00', revenue_per_customer: '0.00' },
      { cohort_month: '2023-09-01', months_since_first: 4, cohort_customers: 1, active_customers: 1, retention_pct: '100.00', revenue: '200.00', revenue_per_customer: '200.00' },
    ]);
  });

  it('gives each customer at most one campaign, by precedence, with priority and value; and the insights behind them', async () => {
    await build();
    const c = await byId<{ customer_id: string; campaign: string; priority: string; estimated_value: string; reason: string }>(
      `SELECT customer_id, campaign, priority, ${dec('estimated_value')}, reason FROM gold.campaign_targets`,
    );
    expect(Object.fromEntries(Object.entries(c).map(([id, r]) => [id, [r.campaign, r.priority, r.estimated_value]]))).toEqual({
      // B: At Risk; 1 / 366 × 365 = 0.9973 purchases × 60 × churn 1.0
      B: ['Retention', 'Low', '59.84'],
      // D: Regular, 30 in the last 90 days against 30 before: one more order of 30
      D: ['Cross-Sell', 'Low', '30.00'],
      E: ['Loyalty', 'High', '1287.40'],
      F: ['Cross-Sell', 'Medium', '250.00'],
      // G: At Risk; 2 / 321 × 365 = 2.2741 × 450 × 0.537671
      G: ['Retention', 'High', '550.22'],
      // I: Win-Back (top value, idle 351 days) comes before Retention (churn 95): a year of its spend, 1500 × 365 / 365
      I: ['Win-Back', 'High', '1500.00'],
    });
    expect(c.I!.reason).toBe('no purchase for 351 days; lifetime value 1500.00 in the top 20%');

    const i = Object.fromEntries((await wh.query<{ insight_key: string; metric_value: string | null; metric_count: number | null; change_pct: string | null; priority: string; detail: string }>(
      `SELECT insight_key, ${dec('metric_value')}, metric_count, ${dec('change_pct')}, priority, detail FROM gold.business_insights`,
    )).map((r) => [r.insight_key, r]));
    // June 2024 (1340) against May (760): +76.32 %; against June 2023 (100): +1240 %
    expect(i.revenue_mom).toMatchObject({ metric_value: '1340.00', change_pct: '76.32', priority: 'Low', detail: 'Revenue was 1340.00 in June 2024 against 760.00 in May 2024 (76.32 %).' });
    expect(i.revenue_yoy).toMatchObject({ change_pct: '1240.00' });
    expect(i.high_value_at_risk).toMatchObject({ metric_count: 1, metric_value: '1500.00', priority: 'High' });
    // A, B, C, H, I, K bought once: 6 of 10
    expect(i.one_time_buyers).toMatchObject({ metric_count: 6, metric_value: '60.00', priority: 'High', detail: '6 of 10 customers (60.00 %) have bought exactly once.' });
    // month 3 complete for the cohorts up to March 2024: D (March) came back in June; the earliest 0 % is June 2023
    expect(i.best_cohort_3m).toMatchObject({ metric_value: '100.00', detail: '100.00 % of the 1 customers who first bought in March 2024 bought again in their month 3.' });
    expect(i.worst_cohort_3m).toMatchObject({ metric_value: '0.00', detail: '0.00 % of the 1 customers who first bought in June 2023 bought again in their month 3.' });
    expect(i.campaign_retention).toMatchObject({ metric_count: 2, metric_value: '610.06', priority: 'High' });
  });

  it('profiles every customer once, buyers or not', async () => {
    await build();
    const p = await byId<{ customer_id: string } & Record<string, unknown>>(
      `SELECT customer_id, has_purchased, segment, first_name, state, ${dec('lifetime_value')}, purchases, recency_days, recency_score, frequency_score, monetary_score,
              churn_risk_score, is_high_churn_risk, campaign, is_win_back_eligible, is_retention_eligible, is_cross_sell_eligible, is_loyalty_eligible, spending_consistency
       FROM gold.customer_360_profile`,
    );
    expect(Object.keys(p).sort()).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'Z']);
    expect(p.J).toMatchObject({ has_purchased: false, segment: null, first_name: 'John', purchases: 0, churn_risk_score: 36, is_high_churn_risk: false, campaign: null });
    expect(p.Z).toMatchObject({ has_purchased: false, state: 'CA', churn_risk_score: 65 });
    expect(p.E).toMatchObject({ has_purchased: true, segment: 'High Value', first_name: 'Emmy', lifetime_value: '2000.00', recency_days: 15, monetary_score: 5, campaign: 'Loyalty', is_loyalty_eligible: true });
    // I is eligible for both Win-Back and Retention; Win-Back comes first
    expect(p.I).toMatchObject({ campaign: 'Win-Back', is_win_back_eligible: true, is_retention_eligible: true, is_loyalty_eligible: false });
  });

  it('computes everything as of ANALYTICS_AS_OF_DATE when it is set, leaving later transactions out', async () => {
    await build({ ANALYTICS_AS_OF_DATE: '2024-03-31' });
    const [asOf] = await wh.query(`SELECT as_of_date, as_of_source, last_transaction_date, history_days FROM silver.customer_as_of`);
    expect(asOf).toEqual({ as_of_date: '2024-03-31', as_of_source: 'ANALYTICS_AS_OF_DATE', last_transaction_date: '2024-06-30', history_days: 275 });
    for (const t of ['metric_customer_ltv', 'customer_segments', 'metric_mom_spend_change', 'metric_avg_transaction_value', 'monthly_metrics', 'cohort_analysis', 'campaign_targets', 'business_insights', 'customer_360_profile']) {
      expect(await wh.query(`SELECT DISTINCT as_of_date FROM gold.${t}`), t).toEqual([{ as_of_date: '2024-03-31' }]);
    }
    const s = await byId<{ customer_id: string; segment: string }>(`SELECT customer_id, segment FROM gold.customer_segments`);
    // E had bought once, 81 days before: New. C, H and K had not bought yet.
    expect(Object.fromEntries(Object.entries(s).map(([id, r]) => [id, r.segment]))).toEqual({ A: 'At Risk', B: 'At Risk', D: 'New', E: 'New', F: 'Regular', G: 'Regular', I: 'At Risk' });
    const [model] = await wh.query<{ method: string; note: string }>(`SELECT method, note FROM gold.churn_model WHERE term = 'recency_weight'`);
    expect(model!.note).toMatch(/^history too short for a trained model: 275 days up to 2024-03-31/);
    const [last] = await wh.query(`SELECT MAX(month_start) AS m FROM gold.monthly_metrics`);
    expect(last).toEqual({ m: '2024-03-01' });
  });

  it('changes nothing when run again: the same file delivered again, then every customer model rebuilt', async () => {
    const ctx = await build();
    const models = MODEL_GRAPH.models.filter((m) => m.domain === 'customer_analytics');
    // every column of every customer table, in key order
    const everything = async () => {
      const all: Record<string, unknown[]> = {};
      for (const m of models) all[m.name] = await wh.query(`SELECT * FROM ${m.name} ORDER BY ${m.table.key!.join(', ')}`);
      return all;
    };
    const first = await everything();
    expect(first['gold.customer_360_profile']).toHaveLength(12);
    await putBlob(storage.storage, 'landing', 'transactions/transactions again.csv', TRANSACTIONS);
    expect(await runUploadIngest(ctx, 'transactions/transactions again.csv')).toMatchObject({ status: 'duplicate' });
    await runTransform(ctx);
    expect(await everything()).toEqual(first);
    const again = await runTransform(ctx, [{ source: 'select', from: '1900-01-01', to: '9999-12-31', reason: 'test', mode: 'rebuild', select: 'customer_analytics' }]);
    expect(again.status).toBe('done');
    expect(await everything()).toEqual(first);
  });

  it('gives the same marts incrementally as rebuilt whole: a moved as-of date, a new day, a transaction moved to another month', async () => {
    // first as of March 31, then the data's own date after a new day's file with a correction
    await build({ ANALYTICS_AS_OF_DATE: '2024-03-31' });
    const ctx = testContext({ storage, warehouse: wh });
    ctx.setNow('2024-07-02T06:00:00Z');
    await putBlob(
      storage.storage,
      'landing',
      'transactions/transactions_2024-07-01.csv',
      [
        'transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status',
        'D3,D,2024-07-01,45.00,Shop,Groceries,Mobile,approved',
        'F2,F,2023-12-20,200.00,Shop,Groceries,Online,approved', // F2 moves from January 2024 to December 2023
      ].join('\n'),
    );
    await runUploadIngest(ctx, 'transactions/transactions_2024-07-01.csv');
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });
    const snapshot = async () => ({
      monthly: await wh.query(`SELECT customer_id, month_start, purchases, purchase_days, ${dec('spend')}, first_purchase_date, last_purchase_date FROM silver.customer_monthly ORDER BY customer_id, month_start`),
      months: await wh.query(`SELECT month_start, ${dec('revenue')}, orders, customers, new_customers FROM gold.monthly_metrics ORDER BY month_start`),
      segments: await wh.query(`SELECT customer_id, segment, segment_rule FROM gold.customer_segments ORDER BY customer_id`),
      ltv: await wh.query(`SELECT customer_id, ${dec('lifetime_value')}, ${dec('predicted_value_12m')} FROM gold.metric_customer_ltv ORDER BY customer_id`),
      cohorts: await wh.query(`SELECT cohort_month, months_since_first, active_customers FROM gold.cohort_analysis ORDER BY cohort_month, months_since_first`),
      scores: await wh.query(`SELECT customer_id, churn_risk_score FROM gold.churn_predictions ORDER BY customer_id`),
      values: await wh.query(`SELECT customer_id, as_of_date, purchases, ${dec('mean_amount')}, ${dec('median_amount')}, ${dec('stddev_amount')} FROM gold.metric_avg_transaction_value ORDER BY customer_id`),
    });
    const incremental = await snapshot();
    expect(incremental.monthly).toContainEqual(expect.objectContaining({ customer_id: 'F', month_start: '2023-12-01', spend: '200.00' }));
    expect(incremental.monthly.some((r) => (r as { customer_id: string; month_start: string }).customer_id === 'F' && (r as { month_start: string }).month_start === '2024-01-01')).toBe(false);
    expect(incremental.months.at(-1)).toMatchObject({ month_start: '2024-07-01', revenue: '45.00' });
    // D: 30, 30, 45 by now (its 2024-06-30 purchase came after the first as-of date)
    expect(incremental.values).toContainEqual({ customer_id: 'D', as_of_date: '2024-07-01', purchases: 3, mean_amount: '35.00', median_amount: '30.00', stddev_amount: '8.66' });
    const again = await runTransform(ctx, [{ source: 'select', from: '1900-01-01', to: '9999-12-31', reason: 'test', mode: 'rebuild', select: 'customer_analytics' }]);
    expect(again.status).toBe('done');
    expect(await snapshot()).toEqual(incremental);
  });
});
