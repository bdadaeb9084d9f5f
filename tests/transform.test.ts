/** The transform's one-at-a-time lease and how overlapping requests coalesce, on every engine. */
import { describe, expect, it } from 'vitest';
import { releaseLease, tryAcquireLease } from '../functions/transform/lease.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putUsageBronzeFile, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const testStorage = useTestStorage();

describe.each(ENGINES)('transform lease on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('is held by one owner at a time and expires', async () => {
    const t0 = new Date('2024-03-01T00:00:00Z');
    expect(await tryAcquireLease(wh, 'x', 'a', 60, t0)).toBe(true);
    expect(await tryAcquireLease(wh, 'x', 'b', 60, t0)).toBe(false);
    expect(await tryAcquireLease(wh, 'x', 'a', 60, t0)).toBe(true); // the owner renews
    await releaseLease(wh, 'x', 'b'); // not the owner: no effect
    expect(await tryAcquireLease(wh, 'x', 'b', 60, new Date(t0.getTime() + 30_000))).toBe(false);
    // a crashed owner's lease runs out
    expect(await tryAcquireLease(wh, 'x', 'b', 60, new Date(t0.getTime() + 61_000))).toBe(true);
    await releaseLease(wh, 'x', 'b');
    expect(await tryAcquireLease(wh, 'x', 'c', 60, t0)).toBe(true);
  });

  it('coalesces a request that arrives while another transform runs; nothing is lost', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await putUsageBronzeFile(storage.storage, '2024-01-01', [{ company_id: 'A', active_users: 1, events: 2 }]);
    // someone else holds the lease
    expect(await tryAcquireLease(wh, 'transform', 'other', 600, ctx.now())).toBe(true);
    const coalesced = await runTransform(ctx, [{ source: 'product_usage', from: '2024-01-01', to: '2024-01-01', reason: 'test', mode: 'rebuild' }]);
    expect(coalesced.status).toBe('coalesced');
    const runs = await wh.query<{ status: string; detail: string }>(`SELECT status, detail FROM ops.pipeline_runs WHERE kind = 'transform'`);
    expect(runs.map((r) => r.status)).toEqual(['skipped']);
    expect(runs[0]!.detail).toMatch(/coalesced/);
    expect(await wh.query(`SELECT COUNT(*) AS n FROM gold.fact_company_activity_daily`)).toEqual([{ n: 0 }]);

    // the holder finishes; the next transform does the waiting work once
    await releaseLease(wh, 'transform', 'other');
    const done = await runTransform(ctx);
    expect(done.status).toBe('done');
    if (done.status !== 'done') return;
    expect(done.passes).toHaveLength(1);
    expect(done.passes[0]!.filesLoaded).toBe(1);
    expect(await wh.query(`SELECT company_id, active_users FROM gold.fact_company_activity_daily`)).toEqual([{ company_id: 'A', active_users: 1 }]);
    expect(await wh.query(`SELECT COUNT(*) AS n FROM ops.transform_requests WHERE status = 'pending'`)).toEqual([{ n: 0 }]);
    // and a message for work already done costs one listing and leaves a skipped run
    const again = await runTransform(ctx, [{ source: 'product_usage', from: '2024-01-01', to: '2024-01-01', reason: 'late duplicate', mode: 'load' }]);
    expect(again).toEqual({ status: 'done', passes: [] });
  });
});
