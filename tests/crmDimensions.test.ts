/**
 * CRM dimensions on every engine: integer surrogate keys that stay with their natural key across
 * runs and rebuilds, the unknown member, and the derived attributes at their boundaries.
 */
import { describe, expect, it } from 'vitest';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { rowsOf, uploadCrm } from './support/crm.js';

const testStorage = useTestStorage();

describe.each(ENGINES)('CRM dimensions on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('give each natural key an integer key that never changes; the unknown member is -1', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a1.csv', [{ account_id: 'A3' }, { account_id: 'A2' }]);
    await runTransform(ctx);
    // numbered in id order within a run: A2 1, A3 2
    expect(await rowsOf(wh, 'gold.dim_accounts', ['account_key', 'account_id', 'account_name'], 'account_key')).toEqual([
      { account_key: -1, account_id: null, account_name: 'Unknown account' },
      { account_key: 1, account_id: 'A2', account_name: 'Acme' },
      { account_key: 2, account_id: 'A3', account_name: 'Acme' },
    ]);

    // a later run: A1 sorts first but is new, so it gets the next key; A2's change keeps its key
    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_accounts', 'a2.csv', [
      { account_id: 'A1', updated_at: '2024-01-02T09:00:00Z' },
      { account_id: 'A2', account_name: 'Acme renamed', updated_at: '2024-01-02T09:00:00Z' },
    ]);
    await runTransform(ctx);
    const expected = [
      { account_key: -1, account_id: null, account_name: 'Unknown account' },
      { account_key: 1, account_id: 'A2', account_name: 'Acme renamed' },
      { account_key: 2, account_id: 'A3', account_name: 'Acme' },
      { account_key: 3, account_id: 'A1', account_name: 'Acme' },
    ];
    expect(await rowsOf(wh, 'gold.dim_accounts', ['account_key', 'account_id', 'account_name'], 'account_key')).toEqual(expected);

    // a rebuild of every CRM model over all dates keeps them too (`npm run ops -- rerun --select crm_warehouse`)
    const rebuilt = await runTransform(ctx, [{ source: 'select', from: '2000-01-01', to: '2024-03-01', reason: 'test', mode: 'rebuild', select: 'crm_warehouse' }]);
    expect(rebuilt.status === 'done' && rebuilt.passes[0]!.models.find((m) => m.name === 'gold.dim_accounts')).toMatchObject({ rows: 4 });
    expect(await rowsOf(wh, 'gold.dim_accounts', ['account_key', 'account_id', 'account_name'], 'account_key')).toEqual(expected);
  });

  it('key a contact to the unknown account until its account arrives, then to the account', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a.csv', [{ account_id: 'A1', account_name: 'Acme' }]);
    await uploadCrm(ctx, storage, 'crm_contacts', 'c.csv', [{ contact_id: 'C1', account_id: 'A2' }]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'gold.dim_contacts', ['contact_key', 'account_key', 'account_id', 'account_name'], 'contact_key')).toEqual([
      { contact_key: -1, account_key: -1, account_id: null, account_name: 'Unknown account' },
      { contact_key: 1, account_key: -1, account_id: 'A2', account_name: 'Unknown account' },
    ]);
    const [warned] = await wh.query<{ status: string; failing_rows: number }>(
      `SELECT status, failing_rows FROM ops.data_test_results WHERE test_id = 'silver.stg_crm_contacts:relationships(account_id -> silver.stg_crm_accounts.account_id)'`,
    );
    expect(warned).toEqual({ status: 'warn', failing_rows: 1 });

    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_accounts', 'a-late.csv', [{ account_id: 'A2', account_name: 'Globex' }]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'gold.dim_contacts', ['contact_key', 'account_key', 'account_id', 'account_name'], 'contact_key')).toEqual([
      { contact_key: -1, account_key: -1, account_id: null, account_name: 'Unknown account' },
      { contact_key: 1, account_key: 2, account_id: 'A2', account_name: 'Globex' },
    ]);
  });

  it('derive category, segments, seniority, inventory status and price tier at their boundaries', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a.csv', [
      { account_id: 'A1', employee_count: '1000', annual_revenue: '100000000.00' },
      { account_id: 'A2', employee_count: '999', annual_revenue: '99999999.99' },
      { account_id: 'A3', employee_count: '100', annual_revenue: '10000000.00' },
      { account_id: 'A4', employee_count: '99', annual_revenue: '9999999.99' },
      { account_id: 'A5', employee_count: '', annual_revenue: '' },
    ]);
    const titles = ['CEO', 'Chief Revenue Officer', 'Co-founder', 'VP of Sales', 'Vice President, Marketing', 'SVP Operations', 'Director of Operations', 'Head of IT', 'Sales Manager', 'Team Lead', 'Software Engineer', 'Actor', 'Lead Director', ''];
    await uploadCrm(ctx, storage, 'crm_contacts', 'c.csv', titles.map((job_title, i) => ({ contact_id: `C${String(i).padStart(2, '0')}`, job_title })));
    await uploadCrm(ctx, storage, 'crm_products', 'p.csv', [
      { product_id: 'P1', stock_quantity: '0', reorder_level: '10', unit_price: '19.99', unit_cost: '9.99' },
      { product_id: 'P2', stock_quantity: '10', reorder_level: '10', unit_price: '20.00', unit_cost: '5.00' },
      { product_id: 'P3', stock_quantity: '11', reorder_level: '10', unit_price: '99.99', unit_cost: '' },
      { product_id: 'P4', stock_quantity: '500', reorder_level: '10', unit_price: '100.00', unit_cost: '100.00' },
      { product_id: 'P5', stock_quantity: '1', reorder_level: '0', unit_price: '500.00', unit_cost: '125.00' },
    ]);
    await runTransform(ctx);

    expect(await rowsOf(wh, 'gold.dim_accounts', ['account_id', 'account_category', 'revenue_segment'], 'account_key')).toEqual([
      { account_id: null, account_category: 'Unknown', revenue_segment: 'Unknown' },
      { account_id: 'A1', account_category: 'Enterprise', revenue_segment: 'High' },
      { account_id: 'A2', account_category: 'Mid-market', revenue_segment: 'Medium' },
      { account_id: 'A3', account_category: 'Mid-market', revenue_segment: 'Medium' },
      { account_id: 'A4', account_category: 'Small business', revenue_segment: 'Low' },
      { account_id: 'A5', account_category: 'Unknown', revenue_segment: 'Unknown' },
    ]);
    const seniority = await rowsOf<{ job_title: string | null; seniority_level: string }>(wh, 'gold.dim_contacts', ['job_title', 'seniority_level'], 'contact_key');
    expect(seniority.slice(1).map((r) => [r.job_title ?? '', r.seniority_level])).toEqual([
      ['CEO', 'C-level'],
      ['Chief Revenue Officer', 'C-level'],
      ['Co-founder', 'C-level'],
      ['VP of Sales', 'VP'],
      ['Vice President, Marketing', 'VP'], // not C-level for "president"
      ['SVP Operations', 'VP'],
      ['Director of Operations', 'Director'],
      ['Head of IT', 'Director'],
      ['Sales Manager', 'Manager'],
      ['Team Lead', 'Manager'],
      ['Software Engineer', 'Individual contributor'],
      ['Actor', 'Individual contributor'], // holds the letters of "cto", not the word
      ['Lead Director', 'Director'], // the higher level wins
      ['', 'Unknown'],
    ]);
    expect(await rowsOf(wh, 'gold.dim_products', ['product_id', 'inventory_status', 'price_tier', 'unit_profit', 'margin_pct'], 'product_key')).toEqual([
      { product_id: null, inventory_status: 'Unknown', price_tier: 'Unknown', unit_profit: null, margin_pct: null },
      { product_id: 'P1', inventory_status: 'Out of stock', price_tier: 'Budget', unit_profit: 10, margin_pct: 0.5003 }, // 10.00 / 19.99
      { product_id: 'P2', inventory_status: 'Low stock', price_tier: 'Standard', unit_profit: 15, margin_pct: 0.75 },
      { product_id: 'P3', inventory_status: 'In stock', price_tier: 'Standard', unit_profit: null, margin_pct: null },
      { product_id: 'P4', inventory_status: 'In stock', price_tier: 'Premium', unit_profit: 0, margin_pct: 0 },
      { product_id: 'P5', inventory_status: 'In stock', price_tier: 'Luxury', unit_profit: 375, margin_pct: 0.75 },
    ]);
  });
});
