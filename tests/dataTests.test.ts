/**
 * Data tests: every kind finds what it should on each engine; a failing `error` test stops
 * publication (gold unchanged, run failed); a `warn` test publishes and is reported; freshness
 * turns to error when a source stops arriving.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { blockingFailures, runDataTests, test, validateTest, type DataTest } from '../functions/quality/dataTests.js';
import { runFreshnessCheck, sourceFreshness } from '../functions/quality/freshness.js';
import { BRONZE_SOURCES, MODEL_GRAPH, tableNamed } from '../functions/domains/registry.js';
import { modelTests } from '../functions/transform/models.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { METRICS } from '../functions/core/telemetry.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { goldHash, putBlob, putUsageBronzeFile, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

/** The company activity sources these freshness cases are about (other domains' sources have never arrived here). */
const OURS = new Set(['crm_company_daily', 'product_usage']);

const CRM = ['company_id,name,country,industry_tag,last_contact_at,snapshot_date', 'A,Alpha,DE,saas,,2024-01-01', 'B,Beta,FR,retail,2023-12-20T15:00:00Z,2024-01-01'].join('\n');

describe('declared data tests', () => {
  it('name real columns of their tables', () => {
    for (const model of MODEL_GRAPH.models) for (const t of modelTests(model)) expect(() => validateTest(model.table, t), `${model.name}`).not.toThrow();
    for (const source of BRONZE_SOURCES) {
      for (const t of [...source.checks.tests, test.freshness(source.checks.freshness)]) expect(() => validateTest(source.table, t), source.name).not.toThrow();
    }
  });

  it('refuse a column that is not in the catalogue', () => {
    expect(() => validateTest(tableNamed('gold.fact_company_activity_daily'), test.notNull('company_id; DROP TABLE x'))).toThrow(/no column "company_id; DROP TABLE x"/);
  });
});

const testStorage = useTestStorage();

describe.each(ENGINES)('data tests on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  async function usageDays(dates: string[], rows: (d: string) => { company_id: string; active_users: number; events: number }[], ingestedAt?: string) {
    for (const d of dates) await putUsageBronzeFile(storage.storage, d, rows(d), ingestedAt);
  }
  const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `2024-01-${String(from + i).padStart(2, '0')}`);

  it('each kind counts its failing rows and samples their keys', async () => {
    const ctx = testContext({ storage: storage, warehouse: wh });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', CRM);
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    await usageDays(days(1, 3), (d) => [
      { company_id: 'A', active_users: 2, events: 20 },
      { company_id: 'Z', active_users: d === '2024-01-02' ? 0 : 1, events: 5 }, // Z: not in the CRM
    ]);
    await runTransform(ctx);

    const gold = tableNamed('gold.fact_company_activity_daily');
    const scope = { table: gold, dateColumn: 'activity_date', range: { from: '2024-01-01', to: '2024-01-03' }, now: ctx.now() };
    // gold is dense from each company's first appearance: A and Z (usage), B (CRM only, zero usage)
    const cases: [DataTest, number][] = [
      [test.notNull('company_name'), 3], // Z on three days
      [test.unique('company_id'), 3], // every company repeats over the days
      [test.unique(['activity_date', 'company_id']), 0],
      [test.relationships('company_id', tableNamed('silver.dim_company'), 'company_id'), 3], // Z
      [test.acceptedValues('country', ['DE', 'FR']), 0], // Z's NULL is not tested
      [test.acceptedValues('country', ['FR']), 3], // A is DE
      [test.acceptedRange('active_users', { min: 1 }), 4], // Z on Jan 2, B every day
      [test.acceptedRange('active_users', { min: 0, max: 1 }), 3], // A has 2
      [test.expression('at least one event per active user', 'events >= active_users'), 0],
      [test.expression('more than 10 events per user', 'events > 10 * active_users'), 8], // all but Z on Jan 2
    ];
    const results = await runDataTests(wh, cases.map(([t]) => t), scope);
    results.forEach((r, i) => expect(r.failingRows, r.testId).toBe(cases[i]![1]));
    expect(results.map((r) => r.status)).toEqual(cases.map(([, n]) => (n === 0 ? 'pass' : 'error')));
    // samples: keys of the first failing rows, in key order
    expect(results[0]!.sampleKeys).toEqual([
      { activity_date: '2024-01-01', company_id: 'Z' },
      { activity_date: '2024-01-02', company_id: 'Z' },
      { activity_date: '2024-01-03', company_id: 'Z' },
    ]);
    expect(results[1]!.sampleKeys).toEqual([
      { company_id: 'A', copies: 3 },
      { company_id: 'B', copies: 3 },
      { company_id: 'Z', copies: 3 },
    ]);
    expect(results[6]!.sampleKeys).toEqual([
      { activity_date: '2024-01-01', company_id: 'B', value: 0 },
      { activity_date: '2024-01-02', company_id: 'B', value: 0 },
      { activity_date: '2024-01-02', company_id: 'Z', value: 0 },
      { activity_date: '2024-01-03', company_id: 'B', value: 0 },
    ]);
    // the scope limits date-range tests to the dates rebuilt
    const [narrow] = await runDataTests(wh, [test.notNull('company_name')], { ...scope, range: { from: '2024-01-03', to: '2024-01-03' } });
    expect(narrow!.failingRows).toBe(1);
  });

  it('row-count change compares with the previous successful run', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await usageDays(days(1, 4), () => [{ company_id: 'A', active_users: 1, events: 1 }]);
    const first = await runTransform(ctx);
    expect(first.status).toBe('done');
    const rowCount = (results: Awaited<ReturnType<typeof runDataTests>>) => results.find((r) => r.type === 'row_count_change')!;
    const check = test.rowCountChange(25);
    const scope = { table: tableNamed('gold.fact_company_activity_daily'), now: ctx.now() };
    // 4 rows were recorded by the first run's gold tests; 5 is +25%: within tolerance
    await usageDays(['2024-01-05'], () => [{ company_id: 'A', active_users: 1, events: 1 }]);
    await runTransform(ctx);
    // now 5 rows against 5; delete 2 → 3 rows: -40%
    await wh.exec(`DELETE FROM gold.fact_company_activity_daily WHERE activity_date >= CAST('2024-01-04' AS DATE)`);
    const [r] = await runDataTests(wh, [check], scope);
    expect(rowCount([r!])).toMatchObject({ status: 'error', observedValue: 3, failingRows: 2 });
    expect(r!.message).toMatch(/-40\.0% against 5/);
  });

  it('a failing error test leaves gold exactly as it was and fails the run', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', CRM);
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    await usageDays(days(1, 5), () => [{ company_id: 'A', active_users: 3, events: 30 }]);
    expect((await runTransform(ctx)).status).toBe('done');
    const before = await goldHash(wh);
    const silverBefore = await wh.query(`SELECT COUNT(*) AS n FROM silver.fact_company_usage_daily`);

    // A bronze file that did not come through the ingester's contract: negative users.
    await usageDays(['2024-01-06'], () => [{ company_id: 'A', active_users: -4, events: 30 }]);
    const blocked = await runTransform(ctx);
    expect(blocked.status).toBe('blocked');
    if (blocked.status !== 'blocked') return;
    expect(blocked.failedTests).toEqual(['silver.fact_company_usage_daily:accepted_range(active_users)']);
    expect(await goldHash(wh)).toEqual(before);
    expect(await wh.query(`SELECT COUNT(*) AS n FROM silver.fact_company_usage_daily`)).toEqual(silverBefore);

    const [run] = await wh.query<{ status: string; error: string }>(`SELECT status, error FROM ops.pipeline_runs WHERE run_id = @id`, { id: blocked.runId });
    expect(run!.status).toBe('failed');
    expect(run!.error).toMatch(/accepted_range\(active_users\).*1 failing row/);
    const [result] = await wh.query<{ status: string; failing_rows: number; sample_keys: string }>(
      `SELECT status, failing_rows, sample_keys FROM ops.data_test_results WHERE run_id = @id AND test_type = 'accepted_range' AND status <> 'pass'`,
      { id: blocked.runId },
    );
    expect(result).toMatchObject({ status: 'error', failing_rows: 1 });
    expect(JSON.parse(result!.sample_keys)).toEqual([{ activity_date: '2024-01-06', company_id: 'A', value: -4 }]);
    expect(ctx.telemetry.metrics).toContainEqual({ name: METRICS.dataTestFailed, value: 1, dimensions: { table: 'silver.fact_company_usage_daily', test: 'accepted_range', severity: 'error', status: 'error' } });
    // the dates stay pending: the next run tries again (and is blocked again while the data is bad)
    const [pending] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.transform_requests WHERE status = 'pending'`);
    expect(pending!.n).toBeGreaterThan(0);
    expect((await runTransform(ctx)).status).toBe('blocked');

    // Fixing the file (a corrected re-delivery) publishes.
    await usageDays(['2024-01-06'], () => [{ company_id: 'A', active_users: 4, events: 30 }]);
    expect((await runTransform(ctx)).status).toBe('done');
    expect((await goldHash(wh)).rows).toBe(before.rows + 2); // Jan 6 for A and B
  });

  describe('a gold test that fails', () => {
    const gold = MODEL_GRAPH.models.find((m) => m.name === 'gold.fact_company_activity_daily')!;
    const extra = test.expression('test only: at most 10 active users', 'active_users <= 10');
    beforeEach(() => void gold.tests.push(extra));
    afterEach(() => void gold.tests.splice(gold.tests.indexOf(extra), 1));

    it('rolls back the gold rebuild itself (delete and insert), leaving gold as it was', async () => {
      const ctx = testContext({ storage, warehouse: wh });
      await usageDays(days(1, 5), () => [{ company_id: 'A', active_users: 3, events: 30 }]);
      await runTransform(ctx);
      const before = await goldHash(wh);
      // a re-pull of Jan 3 with 50 users: silver accepts it, the gold test does not
      await usageDays(['2024-01-03'], () => [{ company_id: 'A', active_users: 50, events: 500 }], '2024-03-01T07:00:00.000Z');
      const outcome = await runTransform(ctx);
      expect(outcome.status).toBe('blocked');
      expect(await goldHash(wh)).toEqual(before);
      const steps = await wh.query<{ step_name: string; status: string }>(
        `SELECT step_name, status FROM ops.run_steps WHERE run_id = @id ORDER BY step_seq`,
        { id: outcome.status === 'blocked' ? outcome.runId : '' },
      );
      // what did publish (the silver usage of Jan 3) is reported, and the report shows the failure
      expect(steps.slice(-3)).toEqual([
        { step_name: 'gold.fact_company_activity_daily', status: 'failed' },
        { step_name: 'tests gold.fact_company_activity_daily', status: 'failed' },
        { step_name: 'report', status: 'succeeded' },
      ]);
    });
  });

  it('a warn test publishes and is reported', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', CRM.replace('A,Alpha,DE', 'A,Alpha,Germany'));
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    await usageDays(days(1, 2), () => [{ company_id: 'A', active_users: 1, events: 1 }]);
    const outcome = await runTransform(ctx);
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expect(await goldHash(wh)).toMatchObject({ rows: 4 }); // A and B on two days
    const [pass] = outcome.passes;
    expect(pass!.tests.warned).toBe(1);
    expect(pass!.tests.failed).toBe(0);
    expect(pass!.tests.problems).toEqual([expect.stringMatching(/^warn: silver\.dim_company:accepted_values\(country\): 1 failing row/)]);
    const [run] = await wh.query<{ status: string; detail: string }>(`SELECT status, detail FROM ops.pipeline_runs WHERE run_id = @id`, { id: pass!.runId });
    expect(run!.status).toBe('succeeded');
    expect((JSON.parse(run!.detail) as { tests: { warned: number } }).tests.warned).toBe(1);
    const [result] = await wh.query<{ sample_keys: string }>(`SELECT sample_keys FROM ops.data_test_results WHERE run_id = @id AND status = 'warn'`, { id: pass!.runId });
    expect(JSON.parse(result!.sample_keys)).toEqual([{ company_id: 'A', valid_from: '2024-01-01', value: 'Germany' }]);
    expect(ctx.log.lines.some((l) => l.level === 'warn' && l.message.includes('accepted_values(country)') && l.props?.runId === pass!.runId)).toBe(true);
    expect(blockingFailures([])).toEqual([]);
  });

  it('freshness turns to warn, then error, when a source stops arriving', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', CRM);
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv'); // ingested "now": 2024-03-01T06:00
    await usageDays(['2024-02-29'], () => [{ company_id: 'A', active_users: 1, events: 1 }], '2024-03-01T02:00:00.000Z');
    await runTransform(ctx);

    const statusAt = async (when: string) => {
      ctx.setNow(when);
      return Object.fromEntries((await sourceFreshness(ctx)).filter((s) => OURS.has(s.source)).map((s) => [s.source, s.status]));
    };
    expect(await statusAt('2024-03-01T12:00:00Z')).toEqual({ crm_company_daily: 'pass', product_usage: 'pass' });
    expect(await statusAt('2024-03-02T05:00:00Z')).toEqual({ crm_company_daily: 'pass', product_usage: 'warn' }); // 27 h
    expect(await statusAt('2024-03-03T05:00:00Z')).toEqual({ crm_company_daily: 'warn', product_usage: 'error' }); // 51 h, 47 h

    const check = await runFreshnessCheck(ctx);
    const usage = check.sources.find((s) => s.source === 'product_usage')!;
    expect(usage).toMatchObject({ status: 'error', lagHours: 51, latestIngestedAt: '2024-03-01T02:00:00.000Z', latestBusinessDate: '2024-02-29' });
    // a text business date in bronze (the CRM file's snapshot_date): its greatest text is its latest date
    expect(check.sources.find((s) => s.source === 'crm_company_daily')).toMatchObject({ latestBusinessDate: '2024-01-01' });
    const recorded = await wh.query<{ test_id: string; status: string; observed_value: number }>(
      `SELECT test_id, status, observed_value FROM ops.data_test_results WHERE run_id = @id AND test_id IN (@crm, @usage) ORDER BY test_id`,
      { id: check.runId, crm: 'bronze.crm_company_daily:freshness(_ingested_at)', usage: 'bronze.product_usage:freshness(_ingested_at)' },
    );
    expect(recorded).toEqual([
      { test_id: 'bronze.crm_company_daily:freshness(_ingested_at)', status: 'warn', observed_value: 47 },
      { test_id: 'bronze.product_usage:freshness(_ingested_at)', status: 'error', observed_value: 51 },
    ]);
    expect(ctx.telemetry.metrics).toContainEqual({ name: METRICS.freshnessLag, value: 51, dimensions: { source: 'product_usage', status: 'error' } });
    expect(ctx.telemetry.events.filter((e) => e.name === 'pipeline.source_stale' && OURS.has(String(e.properties.source))).map((e) => e.properties.source)).toEqual(['crm_company_daily', 'product_usage']);
  });

  it('freshness checks the sources expected to deliver: a never-arrived source of a domain in use is an error; unused domains and optional feeds are left out', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-03-01T06:00:00Z' });
    // nothing has arrived: no domain is in use, no source is expected yet
    expect(await sourceFreshness(ctx)).toEqual([]);

    // one CRM warehouse export: its domain is in use, so its six other sources are late from the start
    await putBlob(storage.storage, 'landing', 'crm_accounts/a.csv', 'account_id,account_name,industry,country,employee_count,annual_revenue,account_type,owner,created_at,updated_at\nA1,Acme,Retail,DE,10,1000.00,customer,Ana,2024-01-01T00:00:00Z,2024-02-29T00:00:00Z\n');
    await runUploadIngest(ctx, 'crm_accounts/a.csv');
    // a sales export only: the customer domain's feeds are each a shop's choice ('own'), so the customers and transactions sources are not expected
    await putBlob(storage.storage, 'landing', 'sales/s.csv', ',Date,Customer ID,Order ID,Sales\n0,2024-02-29,C1,O1,10.00\n');
    await runUploadIngest(ctx, 'sales/s.csv');
    await runTransform(ctx); // freshness reads the bronze tables
    const all = await sourceFreshness(ctx);
    expect(all.map((f) => [f.source, f.status, f.latestIngestedAt === null]).sort()).toEqual(
      [
        ['crm_accounts', 'pass', false],
        ['crm_activities', 'error', true],
        ['crm_contacts', 'error', true],
        ['crm_deals', 'error', true],
        ['crm_order_lines', 'error', true],
        ['crm_products', 'error', true],
        ['crm_tickets', 'error', true],
        ['sales', 'pass', false],
      ].sort(),
    );
    expect(all.find((f) => f.source === 'crm_deals')!.message).toMatch(/no rows yet/);
    // the company activity domain is fed by nobody here: not listed, no event, no alert
    expect(all.some((f) => OURS.has(f.source))).toBe(false);
  });
});
