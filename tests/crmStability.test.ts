/**
 * The metric-stability test on every engine: a closed month's revenue does not change when a later
 * run adds only newer data, and when a late export of older data changes it, the run warns with the
 * metric, the month and both values (and still publishes).
 */
import { describe, expect, it } from 'vitest';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { uploadCrm } from './support/crm.js';

const testStorage = useTestStorage();
const TEST_ID = 'gold.mtr_revenue_by_month:metric_stability(revenue, orders, units, customers by month_start)';

const order = (id: string, day: string, amount: string) => ({ order_id: id, ordered_at: `${day}T10:00:00Z`, updated_at: `${day}T10:00:00Z`, unit_price: amount });

describe.each(ENGINES)('metric stability on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  const result = async (runId: string) =>
    (await wh.query<{ status: string; failing_rows: number; observed_value: number; message: string; sample_keys: string | null }>(
      `SELECT status, failing_rows, observed_value, message, sample_keys FROM ops.data_test_results WHERE run_id = @run_id AND test_id = @test_id`,
      { run_id: runId, test_id: TEST_ID },
    ))[0];
  const runIdOf = (outcome: Awaited<ReturnType<typeof runTransform>>) => (outcome.status === 'done' ? outcome.passes[0]!.runId : '');

  it('holds a closed month to its values across runs that add newer data, and warns when older data changes it', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    // January 2024 is complete once the data reaches February: 100 + 50 from two orders
    await uploadCrm(ctx, storage, 'crm_order_lines', 'jan-feb.csv', [order('O1', '2024-01-01', '100.00'), order('O2', '2024-01-20', '50.00'), order('O3', '2024-02-05', '200.00')]);
    const first = await runTransform(ctx);
    // January's four metrics recorded; nothing to compare with yet
    expect(await result(runIdOf(first))).toMatchObject({ status: 'pass', failing_rows: 0, observed_value: 4, message: '4 closed-period values recorded; no earlier run to compare with' });

    // only newer data: February closes (newly recorded), January is as it was
    ctx.setNow('2024-04-01T07:00:00Z');
    await uploadCrm(ctx, storage, 'crm_order_lines', 'mar.csv', [order('O4', '2024-03-02', '300.00')]);
    const second = await runTransform(ctx);
    expect(await result(runIdOf(second))).toMatchObject({ status: 'pass', failing_rows: 0, observed_value: 8, message: `8 closed-period values, as in run ${runIdOf(first)}` });

    // a late export of an older order: January's revenue, orders and units change, its one customer does not
    ctx.setNow('2024-04-01T08:00:00Z');
    await uploadCrm(ctx, storage, 'crm_order_lines', 'late-jan.csv', [order('O5', '2024-01-25', '40.00')]);
    const third = await runTransform(ctx);
    expect(third.status).toBe('done'); // a warning: published all the same
    const warned = (await result(runIdOf(third)))!;
    expect(warned).toMatchObject({ status: 'warn', failing_rows: 3, observed_value: 8 });
    expect(warned.message).toBe(`3 closed-period value(s) changed since run ${runIdOf(second)}: orders for 2024-01-01: 2 → 3; revenue for 2024-01-01: 150 → 190; units for 2024-01-01: 2 → 3`);
    expect(JSON.parse(warned.sample_keys!)).toEqual([
      { period: '2024-01-01', metric: 'orders', previous: '2', current: '3' },
      { period: '2024-01-01', metric: 'revenue', previous: '150', current: '190' },
      { period: '2024-01-01', metric: 'units', previous: '2', current: '3' },
    ]);
    // only the latest two runs' values are kept
    const kept = await wh.query<{ run_id: string }>(
      `SELECT DISTINCT s.run_id FROM ops.metric_snapshots s JOIN ops.data_test_results r ON r.run_id = s.run_id AND r.test_id_hash = s.test_id_hash WHERE r.test_id = @test_id ORDER BY s.run_id`,
      { test_id: TEST_ID },
    );
    expect(kept.map((k) => k.run_id).sort()).toEqual([runIdOf(second), runIdOf(third)].sort());
  });
});
