/**
 * CRM facts on every engine, each fixture worked out by hand: a deal's stage history (a backward
 * move, a late export of an older version that splits a period), the deal fact, the SLA of tickets
 * as of the data, overdue activities, and an order whose product arrives a file later.
 */
import { describe, expect, it } from 'vitest';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { rowsOf, uploadCrm } from './support/crm.js';

const testStorage = useTestStorage();
const at = (iso: string) => new Date(iso);
const OPEN_END = at('9999-12-31T00:00:00Z');

describe.each(ENGINES)('CRM facts on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('keep a deal\'s stage history: prospecting → proposal → qualification → closed_won, one Backward move', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    const deal = { deal_id: 'D1', amount: '1000.00', created_at: '2024-01-01T09:00:00Z' };
    await uploadCrm(ctx, storage, 'crm_deals', 'd.csv', [
      { ...deal, stage: 'prospecting', probability: '10', updated_at: '2024-01-01T09:00:00Z' },
      { ...deal, stage: 'proposal', probability: '50', updated_at: '2024-01-05T09:00:00Z' },
      { ...deal, stage: 'proposal', probability: '60', updated_at: '2024-01-07T09:00:00Z' }, // a change within the stage: no new period
      { ...deal, stage: 'qualification', probability: '30', updated_at: '2024-01-10T09:00:00Z' },
      { ...deal, stage: 'closed_won', probability: '100', closed_at: '2024-01-20T09:00:00Z', updated_at: '2024-01-20T09:00:00Z' },
    ]);
    await runTransform(ctx);
    // calendar days in a stage: Jan 1 → 5 is 4, Jan 5 → 10 is 5, Jan 10 → 20 is 10; the current one has not ended
    expect(await rowsOf(wh, 'gold.fact_deal_stage_history', ['period_number', 'stage', 'previous_stage', 'movement', 'valid_from', 'valid_to', 'is_current', 'days_in_stage'], 'period_number')).toEqual([
      { period_number: 1, stage: 'prospecting', previous_stage: null, movement: 'Initial', valid_from: at('2024-01-01T09:00:00Z'), valid_to: at('2024-01-05T09:00:00Z'), is_current: false, days_in_stage: 4 },
      { period_number: 2, stage: 'proposal', previous_stage: 'prospecting', movement: 'Forward', valid_from: at('2024-01-05T09:00:00Z'), valid_to: at('2024-01-10T09:00:00Z'), is_current: false, days_in_stage: 5 },
      { period_number: 3, stage: 'qualification', previous_stage: 'proposal', movement: 'Backward', valid_from: at('2024-01-10T09:00:00Z'), valid_to: at('2024-01-20T09:00:00Z'), is_current: false, days_in_stage: 10 },
      { period_number: 4, stage: 'closed_won', previous_stage: 'qualification', movement: 'Forward', valid_from: at('2024-01-20T09:00:00Z'), valid_to: OPEN_END, is_current: true, days_in_stage: null },
    ]);
    // the deal as it is now: won after 19 days (Jan 1 → Jan 20), 3 stage changes, weighted 1000 × 100 %
    expect(await rowsOf(wh, 'gold.fact_deals', ['stage', 'weighted_amount', 'days_open', 'sales_cycle_days', 'stage_changes', 'is_won', 'created_date_key', 'closed_date_key'], 'deal_id')).toEqual([
      { stage: 'closed_won', weighted_amount: 1000, days_open: 19, sales_cycle_days: 19, stage_changes: 3, is_won: true, created_date_key: 20240101, closed_date_key: 20240120 },
    ]);
  });

  it('split a period when a late export brings an older version, and leave the current state alone', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    const deal = { deal_id: 'D2', amount: '2000.00', created_at: '2024-01-01T09:00:00Z', expected_close_date: '2024-06-30' };
    await uploadCrm(ctx, storage, 'crm_deals', 'export-2.csv', [
      { ...deal, stage: 'prospecting', probability: '10', updated_at: '2024-01-01T09:00:00Z' },
      { ...deal, stage: 'negotiation', probability: '75', updated_at: '2024-01-20T09:00:00Z' },
    ]);
    await runTransform(ctx);
    const periods = () => rowsOf(wh, 'gold.fact_deal_stage_history', ['stage', 'movement', 'valid_from', 'valid_to', 'days_in_stage'], 'period_number');
    expect(await periods()).toEqual([
      { stage: 'prospecting', movement: 'Initial', valid_from: at('2024-01-01T09:00:00Z'), valid_to: at('2024-01-20T09:00:00Z'), days_in_stage: 19 },
      { stage: 'negotiation', movement: 'Forward', valid_from: at('2024-01-20T09:00:00Z'), valid_to: OPEN_END, days_in_stage: null },
    ]);

    // export 1 arrives after export 2: the version of Jan 10 (proposal) falls into the prospecting period
    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_deals', 'export-1-late.csv', [{ ...deal, stage: 'proposal', probability: '50', updated_at: '2024-01-10T09:00:00Z' }]);
    await runTransform(ctx);
    expect(await periods()).toEqual([
      { stage: 'prospecting', movement: 'Initial', valid_from: at('2024-01-01T09:00:00Z'), valid_to: at('2024-01-10T09:00:00Z'), days_in_stage: 9 },
      { stage: 'proposal', movement: 'Forward', valid_from: at('2024-01-10T09:00:00Z'), valid_to: at('2024-01-20T09:00:00Z'), days_in_stage: 10 },
      { stage: 'negotiation', movement: 'Forward', valid_from: at('2024-01-20T09:00:00Z'), valid_to: OPEN_END, days_in_stage: null },
    ]);
    // still in negotiation (the latest version), now with 2 stage changes; open 19 days as of Jan 20
    expect(await rowsOf(wh, 'gold.fact_deals', ['stage', 'probability', 'weighted_amount', 'stage_changes', 'days_open', 'sales_cycle_days'], 'deal_id')).toEqual([
      { stage: 'negotiation', probability: 75, weighted_amount: 1500, stage_changes: 2, days_open: 19, sales_cycle_days: null },
    ]);
  });

  it('measure each ticket\'s SLA by priority, as of the data: met, breached, breached by the clock, or pending', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    // targets (the defaults): first response urgent 1 h, high 4 h, low 24 h; resolution urgent 24 h, high 72 h, low 240 h
    await uploadCrm(ctx, storage, 'crm_tickets', 't.csv', [
      // high: answered in 1 h (≤ 4), resolved in 24 h (≤ 72): met; CSAT 4 is positive
      { ticket_id: 'T1', priority: 'high', created_at: '2024-01-10T08:00:00Z', first_response_at: '2024-01-10T09:00:00Z', resolved_at: '2024-01-11T08:00:00Z', csat_score: '4', status: 'resolved', updated_at: '2024-01-11T08:00:00Z' },
      // urgent: answered in 2 h (> 1): breached, whatever the resolution; CSAT 2 is not positive
      { ticket_id: 'T2', priority: 'urgent', created_at: '2024-01-10T08:00:00Z', first_response_at: '2024-01-10T10:00:00Z', resolved_at: '2024-01-10T12:00:00Z', csat_score: '2', status: 'resolved', updated_at: '2024-01-10T12:00:00Z' },
      // low, never answered, created 26 h before the as-of moment (2024-01-11 08:00, T1's update): past 24 h, breached
      { ticket_id: 'T3', priority: 'low', created_at: '2024-01-10T06:00:00Z', updated_at: '2024-01-10T06:00:00Z' },
      // low, never answered, created 2 h before the as-of moment: the clocks still run
      { ticket_id: 'T4', priority: 'low', created_at: '2024-01-11T06:00:00Z', updated_at: '2024-01-11T06:00:00Z' },
    ]);
    await runTransform(ctx);
    const sla = () => rowsOf(wh, 'gold.fact_tickets', ['ticket_id', 'response_target_hours', 'first_response_sla_met', 'resolution_sla_met', 'sla_met', 'is_csat_positive', 'is_resolved'], 'ticket_id');
    expect(await sla()).toEqual([
      { ticket_id: 'T1', response_target_hours: 4, first_response_sla_met: true, resolution_sla_met: true, sla_met: true, is_csat_positive: true, is_resolved: true },
      { ticket_id: 'T2', response_target_hours: 1, first_response_sla_met: false, resolution_sla_met: true, sla_met: false, is_csat_positive: false, is_resolved: true },
      { ticket_id: 'T3', response_target_hours: 24, first_response_sla_met: false, resolution_sla_met: null, sla_met: false, is_csat_positive: null, is_resolved: false },
      { ticket_id: 'T4', response_target_hours: 24, first_response_sla_met: null, resolution_sla_met: null, sla_met: null, is_csat_positive: null, is_resolved: false },
    ]);

    // a later export of another ticket moves the as-of moment to 2024-01-12 08:00: T4 (untouched) is now 26 h old
    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_tickets', 't2.csv', [{ ticket_id: 'T5', created_at: '2024-01-12T08:00:00Z', updated_at: '2024-01-12T08:00:00Z' }]);
    await runTransform(ctx);
    expect((await sla()).find((r) => (r as { ticket_id: string }).ticket_id === 'T4')).toMatchObject({ first_response_sla_met: false, sla_met: false });
  });

  it('flag activities overdue as of the data, and never a completed one', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_activities', 'x.csv', [
      // as of 2024-01-10 12:00 (X4's update)
      { activity_id: 'X1', activity_type: 'task', due_at: '2024-01-09T12:00:00Z', updated_at: '2024-01-05T09:00:00Z', activity_at: '2024-01-05T09:00:00Z' }, // due before: overdue
      { activity_id: 'X2', activity_type: 'task', due_at: '2024-01-09T12:00:00Z', completed_at: '2024-01-09T18:00:00Z', updated_at: '2024-01-09T18:00:00Z', activity_at: '2024-01-05T09:00:00Z' }, // completed (late): not overdue
      { activity_id: 'X3', activity_type: 'meeting', due_at: '2024-01-15T12:00:00Z', updated_at: '2024-01-05T09:00:00Z', activity_at: '2024-01-05T09:00:00Z' }, // due later
      { activity_id: 'X4', activity_type: 'call', updated_at: '2024-01-10T12:00:00Z', activity_at: '2024-01-10T12:00:00Z' }, // no due date
    ]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'gold.fact_activities', ['activity_id', 'is_completed', 'is_overdue', 'activity_date_key', 'due_date_key', 'completed_date_key'], 'activity_id')).toEqual([
      { activity_id: 'X1', is_completed: false, is_overdue: true, activity_date_key: 20240105, due_date_key: 20240109, completed_date_key: null },
      { activity_id: 'X2', is_completed: true, is_overdue: false, activity_date_key: 20240105, due_date_key: 20240109, completed_date_key: 20240109 },
      { activity_id: 'X3', is_completed: false, is_overdue: false, activity_date_key: 20240105, due_date_key: 20240115, completed_date_key: null },
      { activity_id: 'X4', is_completed: false, is_overdue: false, activity_date_key: 20240110, due_date_key: null, completed_date_key: null },
    ]);
  });

  it('key a ticket, an activity and a deal to the unknown account until it arrives, then to it', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a.csv', [{ account_id: 'A1' }]);
    await uploadCrm(ctx, storage, 'crm_tickets', 't.csv', [{ ticket_id: 'T1', account_id: 'A7', contact_id: '' }]);
    await uploadCrm(ctx, storage, 'crm_activities', 'x.csv', [{ activity_id: 'X1', account_id: 'A7', contact_id: '' }]);
    await uploadCrm(ctx, storage, 'crm_deals', 'd.csv', [{ deal_id: 'D1', account_id: 'A7', contact_id: '' }]);
    await runTransform(ctx);
    const keys = async () => [
      ...(await rowsOf(wh, 'gold.fact_tickets', ['account_key', 'contact_key'], 'ticket_id')),
      ...(await rowsOf(wh, 'gold.fact_activities', ['account_key', 'contact_key'], 'activity_id')),
      ...(await rowsOf(wh, 'gold.fact_deals', ['account_key', 'contact_key'], 'deal_id')),
    ];
    expect(await keys()).toEqual(Array(3).fill({ account_key: -1, contact_key: -1 }));

    // A7 arrives in a later file (A1 has key 1, A7 gets 2); the rows themselves are not in the export
    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_accounts', 'a-late.csv', [{ account_id: 'A7', updated_at: '2024-01-05T09:00:00Z' }]);
    await runTransform(ctx);
    expect(await keys()).toEqual(Array(3).fill({ account_key: 2, contact_key: -1 }));
  });

  it('key an order line to the unknown product until the product arrives a file later, then cost it', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a.csv', [{ account_id: 'A1' }]);
    await uploadCrm(ctx, storage, 'crm_contacts', 'c.csv', [{ contact_id: 'C1', account_id: 'A1' }]);
    await uploadCrm(ctx, storage, 'crm_products', 'p.csv', [{ product_id: 'P1', unit_price: '10.00', unit_cost: '4.00' }]);
    const order = { order_id: 'O1', ordered_at: '2024-01-02T09:00:00Z', updated_at: '2024-01-02T09:00:00Z' };
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      { ...order, line_number: '1', product_id: 'P1', quantity: '3', unit_price: '10.00', discount: '0.1' }, // revenue 27.00, cost 12.00, margin 15.00
      { ...order, line_number: '2', product_id: 'P9', quantity: '2', unit_price: '5.00' }, // revenue 10.00; P9 not received yet
      { ...order, line_number: '3', product_id: 'P1', quantity: '1', unit_price: '10.00', order_status: 'cancelled' }, // not revenue
    ]);
    await runTransform(ctx);
    const lines = () => rowsOf(wh, 'gold.fact_order_lines', ['line_number', 'product_key', 'revenue', 'discount_amount', 'cost', 'margin', 'counts_as_revenue'], 'line_number');
    const orders = () => rowsOf(wh, 'gold.fact_orders', ['order_id', 'account_key', 'line_count', 'units', 'revenue', 'cost', 'margin', 'order_date_key'], 'order_id');
    expect(await lines()).toEqual([
      { line_number: 1, product_key: 1, revenue: 27, discount_amount: 3, cost: 12, margin: 15, counts_as_revenue: true },
      { line_number: 2, product_key: -1, revenue: 10, discount_amount: 0, cost: null, margin: null, counts_as_revenue: true },
      { line_number: 3, product_key: 1, revenue: 10, discount_amount: 0, cost: 4, margin: 6, counts_as_revenue: false },
    ]);
    // the order: revenue 27 + 10 = 37 over 3 + 2 = 5 units; its cost is unknown while a counted line's is
    expect(await orders()).toEqual([{ order_id: 'O1', account_key: 1, line_count: 3, units: 5, revenue: 37, cost: null, margin: null, order_date_key: 20240102 }]);

    ctx.setNow('2024-03-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_products', 'p-late.csv', [{ product_id: 'P9', unit_price: '5.00', unit_cost: '1.50', updated_at: '2024-01-03T09:00:00Z' }]);
    await runTransform(ctx);
    expect(await lines()).toEqual([
      { line_number: 1, product_key: 1, revenue: 27, discount_amount: 3, cost: 12, margin: 15, counts_as_revenue: true },
      { line_number: 2, product_key: 2, revenue: 10, discount_amount: 0, cost: 3, margin: 7, counts_as_revenue: true }, // 2 × 1.50
      { line_number: 3, product_key: 1, revenue: 10, discount_amount: 0, cost: 4, margin: 6, counts_as_revenue: false },
    ]);
    // cost 12 + 3 = 15, margin 37 − 15 = 22
    expect(await orders()).toEqual([{ order_id: 'O1', account_key: 1, line_count: 3, units: 5, revenue: 37, cost: 15, margin: 22, order_date_key: 20240102 }]);
  });
});
