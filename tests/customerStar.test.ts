/**
 * The customer star schema on a small hand-made history, on every engine: SCD type 2 versions
 * (each transaction joins the version valid on its date), the minimal version of a customer seen
 * only in transactions, the latest file's row for a repeated id (also one moved to another date),
 * declined and refunded transactions, sales files with an empty or `Unnamed: 0` index header,
 * keys that stay the same across rebuilds, and a date dimension of whole years.
 */
import { describe, expect, it } from 'vitest';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, readBlobText, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const CUSTOMERS_JAN = [
  'customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,customer_segment,decline_type,updated_at',
  'C1,Ada,Lovelace,ada@example.com,36,NY,New York,Employed,Visa,5000,1990-05-01,Gold,,2024-01-01T09:00:00Z',
  'C2,Alan,Turing,alan@example.com,41,TX,Austin,Self-employed,Mastercard,2500.50,2015-03-02,Silver,,2024-01-01T09:00:00Z',
].join('\n');
// C1 moves to California on Feb 1; C2 is re-sent unchanged (no new version)
const CUSTOMERS_FEB = [
  'customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,customer_segment,decline_type,updated_at',
  'C1,Ada,Lovelace,ada@example.com,36,CA,San Francisco,Employed,Visa,5000,1990-05-01,Gold,,2024-02-01T10:00:00+01:00',
  'C2,Alan,Turing,alan@example.com,41,TX,Austin,Self-employed,Mastercard,2500.50,2015-03-02,Silver,,2024-02-01T09:00:00Z',
].join('\n');

const TX_HEADER = 'transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status';
const TRANSACTIONS_1 = [
  TX_HEADER,
  'T1,C1,2023-12-20,10.00,Shop A,Groceries,In-Store,approved', // before C1's first record: the minimal version
  'T2,C1,2024-01-15T23:30:00-05:00,20.00,Shop B,Travel,online,APPROVED', // 04:30 UTC on Jan 16: the NY version
  'T3,C1,2024-02-10,30.00,Shop A,Groceries,Mobile,approved', // the CA version
  'T4,C2,2024-02-11,99.99,Shop C,,Online,declined', // declined: kept, out of spend; no category
  'T5,C2,2024-02-12,-15.00,Shop C,Electronics,Online,approved', // a refund
  'T6,C3,2024-02-13,5.00,Shop A,Groceries,In-Store,approved', // C3: no customer record
  'T7,C2,2024-02-14,40.00,Shop C,Electronics,Online,approved',
  'T6,C3,2024-02-13,6.00,Shop A,Groceries,In-Store,approved', // T6 again in the same file: the later line wins
].join('\n');
// a later file: T7 corrected (amount), T3 moved to another date, T8 new
const TRANSACTIONS_2 = [TX_HEADER, 'T7,C2,2024-02-14,45.00,Shop C,Electronics,Online,approved', 'T3,C1,2024-02-09,30.00,Shop A,Groceries,Mobile,approved', 'T8,C2,2024-02-20,12.50,Shop D,Travel,,approved'].join('\n');

// pandas' to_csv: an unnamed index column first
const SALES_EMPTY_INDEX = [',Date,Customer ID,Order ID,Sales', '0,2024-02-15,C4,O1,100.00', '1,2024-02-16,C1,O2,7.5', '2,2024-02-16,C4,O3,0', '3,2024-02-17,C4,O4,-3'].join('\n');
const SALES_UNNAMED_INDEX = ['Unnamed: 0,Date,Customer ID,Order ID,Sales', '0,2024-02-18,C4,O5,50', '1,2024-02-18,C4,O1,110.00'].join('\r\n');

const testStorage = useTestStorage();

describe.each(ENGINES)('customer star schema on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  async function upload(ctx: ReturnType<typeof testContext>, path: string, content: string) {
    await putBlob(storage.storage, 'landing', path, content);
    return runUploadIngest(ctx, path);
  }

  async function loadAll(ctx: ReturnType<typeof testContext>) {
    await upload(ctx, 'customers/customers_2024-01.csv', CUSTOMERS_JAN);
    await upload(ctx, 'transactions/tx_1.csv', TRANSACTIONS_1);
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });
    await upload(ctx, 'customers/customers_2024-02.csv', CUSTOMERS_FEB);
    ctx.setNow('2024-03-02T06:00:00Z');
    await upload(ctx, 'transactions/tx_2.csv', TRANSACTIONS_2);
    await upload(ctx, 'sales/sales_a.csv', SALES_EMPTY_INDEX);
    ctx.setNow('2024-03-03T06:00:00Z');
    await upload(ctx, 'sales/sales_b.csv', SALES_UNNAMED_INDEX);
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });
  }

  type Fact = { transaction_id: string; source_system: string; transaction_date: string; customer_id: string; state: string | null; is_minimal: boolean; amount: string; spend_amount: string; status: string; merchant_category: string; is_purchase: boolean; is_refund: boolean };
  async function facts(): Promise<Map<string, Fact>> {
    const rows = await wh.query<Fact>(
      `SELECT f.transaction_id, f.source_system, f.transaction_date, f.customer_id, c.state, c.is_minimal, CAST(f.amount AS VARCHAR(20)) AS amount,
              CAST(f.spend_amount AS VARCHAR(20)) AS spend_amount, f.status, m.merchant_category, f.is_purchase, f.is_refund
       FROM gold.fct_transactions f
       JOIN gold.dim_customer c ON c.customer_key = f.customer_key
       JOIN gold.dim_merchant_category m ON m.merchant_category_key = f.merchant_category_key`,
    );
    return new Map(rows.map((r) => [`${r.source_system}:${r.transaction_id}`, r]));
  }

  it('joins each transaction to the customer version valid on its date', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadAll(ctx);
    const dims = await wh.query<{ customer_id: string; valid_from: string; valid_to: string; is_current: boolean; is_minimal: boolean; state: string | null; age: number | null; credit_limit: string | null }>(
      `SELECT customer_id, valid_from, valid_to, is_current, is_minimal, state, age, CAST(credit_limit AS VARCHAR(20)) AS credit_limit FROM gold.dim_customer ORDER BY customer_id, valid_from`,
    );
    expect(dims).toEqual([
      { customer_id: 'C1', valid_from: '1900-01-01', valid_to: '2024-01-01', is_current: false, is_minimal: true, state: null, age: null, credit_limit: null },
      { customer_id: 'C1', valid_from: '2024-01-01', valid_to: '2024-02-01', is_current: false, is_minimal: false, state: 'NY', age: 36, credit_limit: '5000.00' },
      { customer_id: 'C1', valid_from: '2024-02-01', valid_to: '9999-12-31', is_current: true, is_minimal: false, state: 'CA', age: 36, credit_limit: '5000.00' },
      { customer_id: 'C2', valid_from: '1900-01-01', valid_to: '2024-01-01', is_current: false, is_minimal: true, state: null, age: null, credit_limit: null },
      { customer_id: 'C2', valid_from: '2024-01-01', valid_to: '9999-12-31', is_current: true, is_minimal: false, state: 'TX', age: 41, credit_limit: '2500.50' },
      // seen only in transactions, or only in sales: one minimal version
      { customer_id: 'C3', valid_from: '1900-01-01', valid_to: '9999-12-31', is_current: true, is_minimal: true, state: null, age: null, credit_limit: null },
      { customer_id: 'C4', valid_from: '1900-01-01', valid_to: '9999-12-31', is_current: true, is_minimal: true, state: null, age: null, credit_limit: null },
    ]);
    const f = await facts();
    expect(f.get('transactions:T1')).toMatchObject({ transaction_date: '2023-12-20', is_minimal: true, state: null });
    expect(f.get('transactions:T2')).toMatchObject({ transaction_date: '2024-01-16', state: 'NY', merchant_category: 'Travel' });
    expect(f.get('transactions:T3')).toMatchObject({ transaction_date: '2024-02-09', state: 'CA' });
    expect(f.get('transactions:T6')).toMatchObject({ customer_id: 'C3', is_minimal: true, amount: '6.00' });
  });

  it('keeps the latest file’s row of a repeated id, declined and refunds marked, sales as approved purchases', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadAll(ctx);
    const f = await facts();
    // T1..T8 once each, O1, O2, O5 (O3 and O4 are not positive: quarantined)
    expect([...f.keys()].sort()).toEqual(['sales:O1', 'sales:O2', 'sales:O5', ...['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8'].map((t) => `transactions:${t}`)]);
    expect(f.get('transactions:T7')).toMatchObject({ amount: '45.00', spend_amount: '45.00' });
    expect(f.get('transactions:T4')).toMatchObject({ status: 'declined', amount: '99.99', spend_amount: '0.00', is_purchase: false, merchant_category: '(unknown)' });
    expect(f.get('transactions:T5')).toMatchObject({ amount: '-15.00', spend_amount: '-15.00', is_purchase: false, is_refund: true });
    // O1 again in the later file, with another amount: the later file wins
    expect(f.get('sales:O1')).toMatchObject({ transaction_date: '2024-02-18', amount: '110.00', status: 'approved', merchant_category: '(unknown)', is_purchase: true });
    expect(f.get('sales:O2')).toMatchObject({ customer_id: 'C1', state: 'CA', amount: '7.50' });
    const [moved] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM gold.fct_transactions WHERE transaction_id = 'T3'`);
    expect(moved!.n).toBe(1);
  });

  it('reads a sales file with an empty index header and one with "Unnamed: 0"; bad amounts are quarantined with file, line and field', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    const a = await upload(ctx, 'sales/sales_a.csv', SALES_EMPTY_INDEX);
    const b = await upload(ctx, 'sales/sales_b.csv', SALES_UNNAMED_INDEX);
    expect(a).toMatchObject({ status: 'loaded', rowsTotal: 4, rowsAccepted: 2, rowsQuarantined: 2, drift: [] });
    expect(b).toMatchObject({ status: 'loaded', rowsTotal: 2, rowsAccepted: 2, rowsQuarantined: 0, drift: [] });
    if (a.status !== 'loaded') return;
    const bad = (await readBlobText(storage.storage, 'quarantine', a.quarantineFile!.replace(/^quarantine\//, ''))).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(bad.map((r) => [r.line, r.field, r.reason])).toEqual([
      [4, 'Sales', 'Sales: not positive: 0 (Sales must be more than 0)'],
      [5, 'Sales', 'Sales: not positive: -3 (Sales must be more than 0)'],
    ]);
    expect(bad.every((r) => r.file === 'landing/sales/sales_a.csv')).toBe(true);
    // without its space, "CustomerID" is not the column: the file is rejected, naming it
    const c = await upload(ctx, 'sales/sales_c.csv', ['Date,CustomerID,Order ID,Sales', '2024-02-18,C4,O9,5'].join('\n'));
    expect(c.status).toBe('rejected');
    if (c.status === 'rejected') expect(c.reason).toContain('missing required column "Customer ID"');
  });

  it('keeps the keys of the fact valid when the dimensions are rebuilt, and covers whole years with dates', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadAll(ctx);
    const before = await wh.query(`SELECT transaction_id, customer_key, merchant_category_key FROM gold.fct_transactions ORDER BY transaction_id`);
    const again = await runTransform(ctx, [{ source: 'customers', from: '2024-01-01', to: '2024-02-01', reason: 'test', mode: 'rebuild' }]);
    expect(again.status).toBe('done');
    expect(await wh.query(`SELECT transaction_id, customer_key, merchant_category_key FROM gold.fct_transactions ORDER BY transaction_id`)).toEqual(before);
    const [dates] = await wh.query<{ lo: string; hi: string; n: number }>(`SELECT MIN(calendar_date) AS lo, MAX(calendar_date) AS hi, COUNT(*) AS n FROM gold.dim_date`);
    expect(dates).toEqual({ lo: '2023-01-01', hi: '2024-12-31', n: 365 + 366 });
    // 2024-01-01 was a Monday in ISO week 1; 2023-01-01 a Sunday in week 52 of 2022
    expect(await wh.query(`SELECT date_key, iso_year, iso_week, day_of_week, day_name, is_weekend, month_name, quarter FROM gold.dim_date WHERE calendar_date IN ('2023-01-01', '2024-01-01') ORDER BY date_key`)).toEqual([
      { date_key: 20230101, iso_year: 2022, iso_week: 52, day_of_week: 7, day_name: 'Sunday', is_weekend: true, month_name: 'January', quarter: 1 },
      { date_key: 20240101, iso_year: 2024, iso_week: 1, day_of_week: 1, day_name: 'Monday', is_weekend: false, month_name: 'January', quarter: 1 },
    ]);
  });

  it('gives a shop with only a sales file every mart its columns allow', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await upload(ctx, 'sales/sales_a.csv', SALES_EMPTY_INDEX);
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });
    const counts = await wh.query<{ t: string; n: number }>(
      `SELECT 'fct' AS t, COUNT(*) AS n FROM gold.fct_transactions UNION ALL SELECT 'segments', COUNT(*) FROM gold.customer_segments
       UNION ALL SELECT 'ltv', COUNT(*) FROM gold.metric_customer_ltv UNION ALL SELECT 'churn', COUNT(*) FROM gold.churn_predictions
       UNION ALL SELECT 'profiles', COUNT(*) FROM gold.customer_360_profile UNION ALL SELECT 'months', COUNT(*) FROM gold.monthly_metrics`,
    );
    // O1 (C4, 100) and O2 (C1, 7.50): two customers, two purchases, one month
    expect(Object.fromEntries(counts.map((c) => [c.t, c.n]))).toEqual({ fct: 2, segments: 2, ltv: 2, churn: 2, profiles: 2, months: 1 });
    const [sale] = await wh.query(`SELECT merchant_category_key, channel, status FROM gold.fct_transactions WHERE transaction_id = 'O1'`);
    expect(sale).toEqual({ merchant_category_key: 0, channel: null, status: 'approved' });
  });
});
