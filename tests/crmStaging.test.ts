/**
 * CRM staging on every engine: the latest version per id (ties, a file repeating an id, a late
 * export of an older version, files ingested out of order), the typed and derived fields, each
 * worked out by hand, and the rebuild by change date, which touches only what changed.
 */
import { describe, expect, it } from 'vitest';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { rowsOf, uploadCrm } from './support/crm.js';

const testStorage = useTestStorage();

describe.each(ENGINES)('CRM staging on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('keeps the latest version per id: latest updated_at, then the file ingested last, then the later line', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'export-1.csv', [
      { account_id: 'A1', account_name: 'Acme', updated_at: '2024-01-02T09:00:00Z' }, // line 2
      { account_id: 'A1', account_name: 'Acme Corp', updated_at: '2024-01-05T09:00:00Z' }, // line 3: A1's latest
      { account_id: 'A2', account_name: 'Globex (first line)', updated_at: '2024-01-04T09:00:00Z' }, // line 4
      { account_id: 'A2', account_name: 'Globex (repeated, later line)', updated_at: '2024-01-04T09:00:00Z' }, // line 5: same time, later line wins
      { account_id: 'A3', account_name: 'Initech (export 1)', updated_at: '2024-01-06T09:00:00Z' }, // line 6
    ]);
    ctx.setNow('2024-03-01T07:00:00Z'); // the second file is ingested an hour later
    await uploadCrm(ctx, storage, 'crm_accounts', 'export-0-late.csv', [
      { account_id: 'A1', account_name: 'Acme (older, late)', updated_at: '2024-01-03T09:00:00Z' }, // older than line 3: loses
      { account_id: 'A3', account_name: 'Initech (export 2)', updated_at: '2024-01-06T09:00:00Z' }, // same updated_at, ingested later: wins
    ]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'silver.stg_crm_accounts', ['account_id', 'account_name', 'updated_date', '_source_file', '_row_number'], 'account_id')).toEqual([
      { account_id: 'A1', account_name: 'Acme Corp', updated_date: '2024-01-05', _source_file: 'landing/crm_accounts/export-1.csv', _row_number: 3 },
      { account_id: 'A2', account_name: 'Globex (repeated, later line)', updated_date: '2024-01-04', _source_file: 'landing/crm_accounts/export-1.csv', _row_number: 5 },
      { account_id: 'A3', account_name: 'Initech (export 2)', updated_date: '2024-01-06', _source_file: 'landing/crm_accounts/export-0-late.csv', _row_number: 3 },
    ]);
  });

  it('keeps the latest activity and order line version on a whole build (only repeated ids ranked) and on a daily one', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_activities', 'a1.csv', [
      { activity_id: 'X1', subject: 'once', updated_at: '2024-01-02T09:00:00Z' }, // one version: passes as it is
      { activity_id: 'X2', subject: 'first', updated_at: '2024-01-03T09:00:00Z' },
      { activity_id: 'X2', subject: 'latest', updated_at: '2024-01-04T09:00:00Z' }, // X2's latest
      { activity_id: 'X3', subject: 'tie, earlier line', updated_at: '2024-01-05T09:00:00Z' },
      { activity_id: 'X3', subject: 'tie, later line', updated_at: '2024-01-05T09:00:00Z' }, // same time: the later line
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o1.csv', [
      { order_id: 'O1', line_number: '1', quantity: '1', updated_at: '2024-01-02T09:00:00Z' }, // O1: no line repeated
      { order_id: 'O1', line_number: '2', quantity: '2', updated_at: '2024-01-02T09:00:00Z' },
      { order_id: 'O2', line_number: '1', quantity: '3', updated_at: '2024-01-03T09:00:00Z' }, // O2 line 1 twice
      { order_id: 'O2', line_number: '1', quantity: '4', updated_at: '2024-01-04T09:00:00Z' }, // its latest
      { order_id: 'O2', line_number: '2', quantity: '5', updated_at: '2024-01-03T09:00:00Z' }, // ranked with its order, alone in its line
    ]);
    await runTransform(ctx);
    const activities = () => rowsOf(wh, 'silver.stg_crm_activities', ['activity_id', 'subject', 'updated_date'], 'activity_id');
    const lines = () => rowsOf(wh, 'silver.stg_crm_order_lines', ['order_id', 'line_number', 'quantity'], 'order_id, line_number');
    expect(await activities()).toEqual([
      { activity_id: 'X1', subject: 'once', updated_date: '2024-01-02' },
      { activity_id: 'X2', subject: 'latest', updated_date: '2024-01-04' },
      { activity_id: 'X3', subject: 'tie, later line', updated_date: '2024-01-05' },
    ]);
    expect(await lines()).toEqual([
      { order_id: 'O1', line_number: 1, quantity: 1 },
      { order_id: 'O1', line_number: 2, quantity: 2 },
      { order_id: 'O2', line_number: 1, quantity: 4 },
      { order_id: 'O2', line_number: 2, quantity: 5 },
    ]);

    // a daily export: a late, older version of X2 loses; X1 changes; O1 line 2 changes
    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_activities', 'a2.csv', [
      { activity_id: 'X2', subject: 'older, late', updated_at: '2024-01-03T08:00:00Z' },
      { activity_id: 'X1', subject: 'changed', updated_at: '2024-02-01T09:00:00Z' },
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o2.csv', [{ order_id: 'O1', line_number: '2', quantity: '7', updated_at: '2024-02-01T09:00:00Z' }]);
    await runTransform(ctx);
    expect(await activities()).toEqual([
      { activity_id: 'X1', subject: 'changed', updated_date: '2024-02-01' },
      { activity_id: 'X2', subject: 'latest', updated_date: '2024-01-04' },
      { activity_id: 'X3', subject: 'tie, later line', updated_date: '2024-01-05' },
    ]);
    expect(await lines()).toEqual([
      { order_id: 'O1', line_number: 1, quantity: 1 },
      { order_id: 'O1', line_number: 2, quantity: 7 },
      { order_id: 'O2', line_number: 1, quantity: 4 },
      { order_id: 'O2', line_number: 2, quantity: 5 },
    ]);
  });

  it('types every entity and derives what a staging layer adds', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a.csv', [{ account_id: 'A1', employee_count: '250', annual_revenue: '12000000.50' }]);
    await uploadCrm(ctx, storage, 'crm_contacts', 'c.csv', [
      { contact_id: 'C1', first_name: 'Ada', last_name: 'Lovelace' },
      { contact_id: 'C2', first_name: 'Bob', last_name: '', gender: '', income_segment: '' },
    ]);
    await uploadCrm(ctx, storage, 'crm_products', 'p.csv', [
      { product_id: 'P1', unit_price: '10.00', unit_cost: '4.00' }, // margin 6.00, 6 / 10 = 0.6
      { product_id: 'P2', unit_price: '3.00', unit_cost: '' }, // cost unknown: no margin
      { product_id: 'P3', unit_price: '7.00', unit_cost: '1.00', is_active: 'no' }, // 6 / 7 = 0.857142… → 0.8571
    ]);
    await uploadCrm(ctx, storage, 'crm_deals', 'd.csv', [
      // the data's as-of date is its latest updated_at: 2024-02-01 (D3's)
      { deal_id: 'D1', stage: 'proposal', expected_close_date: '2024-01-31' }, // open, due before 2024-02-01: overdue
      { deal_id: 'D2', stage: 'negotiation', expected_close_date: '2024-02-01' }, // due on the as-of date: not overdue
      { deal_id: 'D3', stage: 'closed_won', expected_close_date: '2024-01-10', closed_at: '2024-02-01T09:00:00Z', updated_at: '2024-02-01T09:00:00Z' }, // closed: never overdue
      { deal_id: 'D4', stage: 'closed_lost', closed_at: '2024-01-20T09:00:00Z', updated_at: '2024-01-20T09:00:00Z' },
    ]);
    await uploadCrm(ctx, storage, 'crm_tickets', 't.csv', [
      // answered after 1 h 30 min = 1.5 h; resolved after 26 h 15 min = 26.25 h
      { ticket_id: 'T1', created_at: '2024-01-02T09:00:00Z', first_response_at: '2024-01-02T10:30:00Z', resolved_at: '2024-01-03T11:15:00Z', status: 'resolved', csat_score: '4', updated_at: '2024-01-03T11:15:00Z' },
      { ticket_id: 'T2', created_at: '2024-01-02T09:00:00Z', updated_at: '2024-01-02T09:00:00Z' }, // not answered: no hours
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      // 3 × 19.99 = 59.97 gross; × (1 − 0.15) = 50.9745 → 50.97; ordered Jan 2, delivered Jan 5: 3 days
      { order_id: 'O1', line_number: '1', quantity: '3', unit_price: '19.99', discount: '0.15', ordered_at: '2024-01-02T23:00:00Z', shipped_at: '2024-01-03T10:00:00Z', delivered_at: '2024-01-05T01:00:00Z', updated_at: '2024-01-05T01:00:00Z' },
      // 2 × 0.05 = 0.10, no discount; 1 × 10.05 × 0.5 = 5.025 → 5.03 (half away from zero, both engines)
      { order_id: 'O1', line_number: '2', quantity: '2', unit_price: '0.05', ordered_at: '2024-01-02T23:00:00Z', order_status: 'pending', updated_at: '2024-01-02T23:00:00Z' },
      { order_id: 'O2', line_number: '1', quantity: '1', unit_price: '10.05', discount: '0.5', order_status: 'processing' },
    ]);
    await runTransform(ctx);

    expect(await rowsOf(wh, 'silver.stg_crm_accounts', ['account_id', 'employee_count', 'annual_revenue', 'created_at'], 'account_id')).toEqual([
      { account_id: 'A1', employee_count: 250, annual_revenue: 12000000.5, created_at: new Date('2024-01-01T09:00:00Z') },
    ]);
    expect(await rowsOf(wh, 'silver.stg_crm_contacts', ['contact_id', 'full_name', 'gender', 'income_segment'], 'contact_id')).toEqual([
      { contact_id: 'C1', full_name: 'Ada Lovelace', gender: 'Female', income_segment: 'Medium' },
      { contact_id: 'C2', full_name: 'Bob', gender: null, income_segment: null },
    ]);
    expect(await rowsOf(wh, 'silver.stg_crm_products', ['product_id', 'unit_margin', 'margin_pct', 'is_active'], 'product_id')).toEqual([
      { product_id: 'P1', unit_margin: 6, margin_pct: 0.6, is_active: true },
      { product_id: 'P2', unit_margin: null, margin_pct: null, is_active: true },
      { product_id: 'P3', unit_margin: 6, margin_pct: 0.8571, is_active: false },
    ]);
    expect(await rowsOf(wh, 'silver.stg_crm_deals', ['deal_id', 'is_closed', 'is_won', 'is_overdue'], 'deal_id')).toEqual([
      { deal_id: 'D1', is_closed: false, is_won: false, is_overdue: true },
      { deal_id: 'D2', is_closed: false, is_won: false, is_overdue: false },
      { deal_id: 'D3', is_closed: true, is_won: true, is_overdue: false },
      { deal_id: 'D4', is_closed: true, is_won: false, is_overdue: false },
    ]);
    expect(await rowsOf(wh, 'silver.stg_crm_tickets', ['ticket_id', 'first_response_hours', 'resolution_hours', 'csat_score'], 'ticket_id')).toEqual([
      { ticket_id: 'T1', first_response_hours: 1.5, resolution_hours: 26.25, csat_score: 4 },
      { ticket_id: 'T2', first_response_hours: null, resolution_hours: null, csat_score: null },
    ]);
    expect(await rowsOf(wh, 'silver.stg_crm_order_lines', ['order_id', 'line_number', 'gross_amount', 'revenue', 'discount', 'fulfilment_days'], 'order_id, line_number')).toEqual([
      { order_id: 'O1', line_number: 1, gross_amount: 59.97, revenue: 50.97, discount: 0.15, fulfilment_days: 3 },
      { order_id: 'O1', line_number: 2, gross_amount: 0.1, revenue: 0.1, discount: 0, fulfilment_days: null },
      { order_id: 'O2', line_number: 1, gross_amount: 10.05, revenue: 5.03, discount: 0.5, fulfilment_days: null },
    ]);
  });

  it('rebuilds by change date: an export touches only the ids it carries, and the as-of date moves the overdue flags', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_deals', 'd1.csv', [
      { deal_id: 'D1', stage: 'proposal', expected_close_date: '2024-01-20', updated_at: '2024-01-10T09:00:00Z' },
      { deal_id: 'D2', stage: 'prospecting', expected_close_date: '2024-03-31', updated_at: '2024-01-10T09:00:00Z' },
    ]);
    await runTransform(ctx);
    // as of 2024-01-10: D1 is not due yet
    expect(await rowsOf(wh, 'silver.stg_crm_deals', ['deal_id', 'stage', 'is_overdue', '_source_file'], 'deal_id')).toEqual([
      { deal_id: 'D1', stage: 'proposal', is_overdue: false, _source_file: 'landing/crm_deals/d1.csv' },
      { deal_id: 'D2', stage: 'prospecting', is_overdue: false, _source_file: 'landing/crm_deals/d1.csv' },
    ]);

    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_deals', 'd2.csv', [{ deal_id: 'D2', stage: 'qualification', expected_close_date: '2024-03-31', updated_at: '2024-02-01T09:00:00Z' }]);
    const outcome = await runTransform(ctx);
    const built = outcome.status === 'done' ? outcome.passes.flatMap((p) => p.models) : [];
    // only the new export's date was rebuilt, and only D2's row was written
    expect(built.find((m) => m.name === 'silver.stg_crm_deals')).toEqual({ name: 'silver.stg_crm_deals', range: { from: '2024-02-01', to: '2024-02-01' }, rows: 1 });
    // as of 2024-02-01, D1 (untouched by the export) is overdue: the flag follows the as-of date
    expect(await rowsOf(wh, 'silver.stg_crm_deals', ['deal_id', 'stage', 'is_overdue', '_source_file'], 'deal_id')).toEqual([
      { deal_id: 'D1', stage: 'proposal', is_overdue: true, _source_file: 'landing/crm_deals/d1.csv' },
      { deal_id: 'D2', stage: 'qualification', is_overdue: false, _source_file: 'landing/crm_deals/d2.csv' },
    ]);
  });
});
