/**
 * The operations, called through their HTTP handlers as the Functions host would call them:
 * bad requests get a 400 naming the field; backfill re-pulls exactly the dates asked; replaying a
 * bronze file is idempotent; a gold row traces back to the bronze files and lines it came from.
 * Then the CLI after a real `npm start`.
 */
import '../functions/local/quietFunctionsTestMode.js';
import funcs from '@azure/functions';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addDays, toIsoDate } from '../functions/core/dates.js';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { runUsageIngest } from '../functions/ingest/usageIngest.js';
import { LocalHost } from '../functions/local/localHost.js';
import { startUsageApiServer, type UsageApiServer } from '../functions/local/usageApiServer.js';
import { checkPoisonQueues } from '../functions/ops/poisonQueues.js';
import { readWatermark } from '../functions/ops/watermarks.js';
import { EVENTS, METRICS } from '../functions/core/telemetry.js';
import { container, decodeQueueJson, queue } from '../functions/storage/blobStore.js';
import { transformRequestSchema } from '../functions/transform/requests.js';
import { runTransform } from '../functions/transform/transform.js';
import { useSharedContext } from '../functions/triggers/hostContext.js';
import { opsHandler, OPS_ROUTES } from '../functions/triggers/ops.js';
import type { OperationName } from '../functions/ops/operations.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { openTempDuckDb } from './support/engines.js';
import { goldHash, jsonLines, putBlob, putUsageBronzeFile, readBlobText, resetStorage, testContext, useTestStorage, type TestContext } from './support/pipeline.js';

const CRM = ['company_id,name,country,industry_tag,last_contact_at,snapshot_date', 'A,Alpha,DE,saas,,2024-01-01', 'B,Beta,FR,retail,2023-12-20T15:00:00Z,2024-01-02'].join('\n');

const testStorage = useTestStorage();
let wh: Warehouse;
let ctx: TestContext;

beforeEach(async () => {
  await resetStorage(testStorage().storage);
  wh = await openTempDuckDb();
  ctx = testContext({ storage: testStorage(), warehouse: wh, now: '2024-01-11T06:00:00Z' });
  useSharedContext(ctx);
});
afterEach(async () => {
  useSharedContext(undefined);
  await wh.close();
});

/** Calls an operation's HTTP function the way the host does; returns status and JSON body. */
async function call(name: OperationName, request: { query?: Record<string, string>; body?: string | object }): Promise<{ status: number; body: Record<string, unknown> }> {
  const post = OPS_ROUTES.find((r) => r.name === name)?.method === 'POST';
  const req = new funcs.HttpRequest({
    method: post ? 'POST' : 'GET',
    url: `http://localhost:7071/api/ops/${name}`,
    query: request.query ?? {},
    ...(post ? { body: { string: typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? {}) } } : {}),
  });
  const res = await opsHandler(name)(req, new funcs.InvocationContext({ invocationId: 'test', functionName: `ops ${name}` }));
  return { status: res.status ?? 200, body: res.jsonBody as Record<string, unknown> };
}

async function smallPipeline(): Promise<void> {
  await putBlob(testStorage().storage, 'landing', 'crm_company_daily/crm.csv', CRM);
  await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
  for (const d of ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']) {
    await putUsageBronzeFile(testStorage().storage, d, [
      { company_id: 'B', active_users: 2, events: 9 },
      { company_id: 'A', active_users: Number(d.slice(-1)), events: 10 },
    ]);
  }
  expect((await runTransform(ctx)).status).toBe('done');
}

describe('a bad request to each operation gets a 400 that says what is wrong', () => {
  const cases: [OperationName, { query?: Record<string, string>; body?: string | object }, RegExp][] = [
    ['runs', { query: { limit: '0' } }, /^runs: limit: .*>=\s*1/],
    ['runs', { query: { kind: 'cleanup' } }, /^runs: kind: .*"upload_ingest"/],
    ['runs', { query: { colour: 'red' } }, /^runs: \(request\): unknown field\(s\) "colour"/],
    ['runs', { query: { runId: 'not-a-uuid' } }, /^runs: runId: /],
    ['freshness', { query: { source: 'x' } }, /^freshness: \(request\): unknown field\(s\) "source"/],
    ['trace', { query: {} }, /^trace: company: .*; date: /],
    ['trace', { query: { company: 'A', date: '2024-02-30' } }, /^trace: date: expected a calendar date as YYYY-MM-DD/],
    ['backfill', { body: '{"from": "2024-01-01",' }, /^backfill: the body is not valid JSON/],
    ['backfill', { body: '["2024-01-01"]' }, /^backfill: the body must be a JSON object/],
    ['backfill', { body: { from: '2024-01-05', to: '2024-01-01' } }, /^backfill: from: `from` must not be after `to`/],
    ['backfill', { body: { from: '2023-01-01', to: '2023-03-01' } }, /^backfill: to: at most 31 days per request/],
    ['backfill', { body: { from: '2024-01-09', to: '2024-01-11' } }, /^backfill: to: must be a complete day, at most yesterday \(2024-01-10\)/],
    ['backfill', { body: { from: '2024-01-01' } }, /^backfill: to: /],
    ['replay', { body: {} }, /^replay: file: /],
    ['replay', { body: { file: 'product_usage/../../etc/passwd.jsonl' } }, /^replay: file: must be a path inside the bronze container/],
    ['replay', { body: { file: 'hr_salaries/2024.jsonl' } }, /^replay: file: must start with a source folder: crm_company_daily, product_usage/],
    ['replay', { body: { file: 'product_usage/activity_date=2024-01-01/usage.csv' } }, /^replay: file: must name a bronze \.jsonl file/],
    ['rerun', { body: { from: '2024-01-01', to: '2024-01-02', source: 'erp' } }, /^rerun: source: /],
    ['rerun', { body: { from: '2024-1-1', to: '2024-01-02' } }, /^rerun: from: expected a calendar date/],
  ];
  it.each(cases)('%s %j', async (name, request, message) => {
    const res = await call(name, request);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
    // nothing was recorded or queued for a refused request
    expect(await wh.query(`SELECT run_id FROM ops.pipeline_runs`)).toEqual([]);
  });

  it('a file that is not in bronze is a 404; the function key in the query string is not an input', async () => {
    const res = await call('replay', { body: { file: 'product_usage/activity_date=2024-01-01/usage.jsonl' } });
    expect(res).toMatchObject({ status: 404, body: { error: 'replay: file: no blob bronze/product_usage/activity_date=2024-01-01/usage.jsonl' } });
    expect((await call('runs', { query: { code: 'the-function-key', limit: '5' } })).status).toBe(200);
    expect((await call('trace', { query: { company: 'nobody', date: '2024-01-01' } })).status).toBe(404);
  });
});

describe('backfill', () => {
  let api: UsageApiServer;
  beforeAll(async () => {
    api = await startUsageApiServer({ seed: 5, companies: 30, token: 'ops-test' });
  });
  afterAll(() => api.stop());

  it('re-pulls exactly the dates asked, replacing their blobs, without moving the watermark', async () => {
    const env = { USAGE_API_BASE_URL: api.url, USAGE_API_TOKEN: 'ops-test', USAGE_START_DATE: '2024-01-01', USAGE_API_PAGE_SIZE: '10' };
    ctx = testContext({ storage: testStorage(), warehouse: wh, now: '2024-01-11T06:00:00Z', env });
    useSharedContext(ctx);
    await runUsageIngest(ctx); // 2024-01-01 .. 2024-01-10
    const etags = async () => {
      const out = new Map<string, string>();
      for await (const b of container(ctx.storage, 'bronze').listBlobsFlat({ prefix: 'product_usage/' })) out.set(b.name, b.properties.etag);
      return out;
    };
    const before = await etags();
    expect(before.size).toBe(10);
    await queue(ctx.storage, 'transformRequests').clearMessages();
    api.requests.reset();

    const res = await call('backfill', { body: { from: '2024-01-04', to: '2024-01-06', reason: 'provider restated' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'product_usage', dates: ['2024-01-04', '2024-01-05', '2024-01-06'], transform: 'requested' });
    expect([...new Set(api.requests.log.map((r) => r.date))].sort()).toEqual(['2024-01-04', '2024-01-05', '2024-01-06']);
    const after = await etags();
    const changed = [...after].filter(([name, etag]) => before.get(name) !== etag).map(([name]) => name.split('/')[1]);
    expect(changed.sort()).toEqual(['activity_date=2024-01-04', 'activity_date=2024-01-05', 'activity_date=2024-01-06']);
    expect(await readWatermark(wh, 'product_usage')).toBe('2024-01-10');
    const steps = await wh.query<{ step_name: string }>(`SELECT step_name FROM ops.run_steps WHERE run_id = @id ORDER BY step_name`, { id: res.body.runId as string });
    expect(steps.map((s) => s.step_name)).toEqual(['pull 2024-01-04', 'pull 2024-01-05', 'pull 2024-01-06']);
    const [run] = await wh.query<{ trigger_name: string }>(`SELECT trigger_name FROM ops.pipeline_runs WHERE run_id = @id`, { id: res.body.runId as string });
    expect(run!.trigger_name).toBe('ops:backfill (provider restated)');
    const { receivedMessageItems } = await queue(ctx.storage, 'transformRequests').receiveMessages();
    expect(receivedMessageItems.map((m) => decodeQueueJson(m.messageText))).toEqual([expect.objectContaining({ source: 'product_usage', from: '2024-01-04', to: '2024-01-06' })]);
  });
});

describe('replay and rerun', () => {
  it('replaying a bronze file reloads it and rebuilds its dates; twice changes nothing', async () => {
    await smallPipeline();
    const gold = await goldHash(wh);
    const file = 'product_usage/activity_date=2024-01-03/usage.jsonl';
    const rowsOf = () => wh.query(`SELECT company_id, active_users, _row_number FROM bronze.product_usage WHERE _bronze_file = @f ORDER BY company_id`, { f: `bronze/${file}` });
    const bronzeRows = await rowsOf();

    for (let i = 0; i < 2; i++) {
      const res = await call('replay', { body: { file: `bronze/${file}` } });
      expect(res).toMatchObject({ status: 202, body: { file: `bronze/${file}`, source: 'product_usage', wasLoaded: true } });
      const outcome = await runTransform(ctx);
      expect(outcome.status).toBe('done');
      if (outcome.status !== 'done') return;
      expect(outcome.passes.map((p) => [p.filesLoaded, p.rowsLoaded])).toEqual([[1, 2]]);
      expect(outcome.passes[0]!.changes).toEqual({ product_usage: { from: '2024-01-03', to: '2024-01-03' } });
      expect(await goldHash(wh)).toEqual(gold);
      expect(await rowsOf()).toEqual(bronzeRows);
    }
    const etag = (await container(ctx.storage, 'bronze').getBlobClient(file).getProperties()).etag!.replace(/"/g, '');
    expect(await wh.query(`SELECT etag FROM ops.loaded_files WHERE bronze_file = @f`, { f: `bronze/${file}` })).toEqual([{ etag }]);
    // the operation itself is in the run history
    const runs = await call('runs', { query: { kind: 'operation' } });
    expect((runs.body.runs as { trigger: string }[]).map((r) => r.trigger)).toEqual([`ops:replay bronze/${file}`, `ops:replay bronze/${file}`]);
  });

  it('re-running transforms for a date range rebuilds those dates and changes nothing else', async () => {
    await smallPipeline();
    const gold = await goldHash(wh);
    const res = await call('rerun', { body: { from: '2024-01-02', to: '2024-01-03', source: 'product_usage' } });
    expect(res).toMatchObject({ status: 202, body: { sources: ['product_usage'], from: '2024-01-02', to: '2024-01-03' } });
    const { receivedMessageItems } = await queue(ctx.storage, 'transformRequests').receiveMessages({ numberOfMessages: 32 });
    const requests = receivedMessageItems.map((m) => transformRequestSchema.parse(decodeQueueJson(m.messageText))).filter((r) => r.mode === 'rebuild');
    expect(requests).toEqual([expect.objectContaining({ source: 'product_usage', from: '2024-01-02', to: '2024-01-03', mode: 'rebuild' })]);
    const outcome = await runTransform(ctx, requests);
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expect(outcome.passes[0]!.models.map((m) => [m.name, m.range])).toEqual([
      ['silver.fact_company_usage_daily', { from: '2024-01-02', to: '2024-01-03' }],
      ['silver.dim_calendar', { from: '2024-01-02', to: '2024-01-03' }],
      ['gold.fact_company_activity_daily', { from: '2024-01-02', to: '2024-01-09' }],
    ]);
    expect(await goldHash(wh)).toEqual(gold);
  });
});

describe('quarantine', () => {
  it('isolates a bronze file: blob and reason to quarantine, rows out of bronze, its dates rebuilt without it', async () => {
    await smallPipeline();
    const file = 'product_usage/activity_date=2024-01-03/usage.jsonl';
    const before = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-03' AND active_users > 0`);
    expect(before).toEqual([{ n: 2 }]);

    const res = await call('quarantine', { body: { file: `bronze/${file}`, reason: 'provider sent test data' } });
    expect(res).toMatchObject({
      status: 202,
      body: { file: `bronze/${file}`, source: 'product_usage', rowsRemoved: 2, dates: { from: '2024-01-03', to: '2024-01-03' }, quarantinedAs: 'quarantine/product_usage/activity_date=2024-01-03/usage.isolated/usage.jsonl' },
    });
    expect(await container(ctx.storage, 'bronze').getBlobClient(file).exists()).toBe(false);
    const reason = JSON.parse(await readBlobText(testStorage().storage, 'quarantine', 'product_usage/activity_date=2024-01-03/usage.isolated/reason.json')) as Record<string, unknown>;
    expect(reason).toMatchObject({ source: 'product_usage', file: `bronze/${file}`, reason: 'provider sent test data' });
    expect(jsonLines(await readBlobText(testStorage().storage, 'quarantine', 'product_usage/activity_date=2024-01-03/usage.isolated/usage.jsonl'))).toHaveLength(2);
    expect(await wh.query(`SELECT COUNT(*) AS n FROM bronze.product_usage WHERE _bronze_file = @f`, { f: `bronze/${file}` })).toEqual([{ n: 0 }]);

    // the pending request rebuilds the day without the file: zeros, as for a day without usage
    expect((await runTransform(ctx)).status).toBe('done');
    expect(await wh.query(`SELECT COUNT(*) AS n FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-03' AND active_users > 0`)).toEqual([{ n: 0 }]);
    expect(await wh.query(`SELECT COUNT(*) AS n FROM silver.fact_company_usage_daily WHERE activity_date = '2024-01-03'`)).toEqual([{ n: 0 }]);

    // isolated once: it is no longer in bronze
    expect(await call('quarantine', { body: { file: `bronze/${file}`, reason: 'again' } })).toMatchObject({ status: 404 });
    expect(await call('quarantine', { body: { file: `bronze/${file}` } })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^quarantine: reason: /) as string } });
  });
});

describe('runs and trace', () => {
  it('lists recent runs with their steps and data-test problems, newest first, filtered', async () => {
    await smallPipeline();
    const res = await call('runs', { query: { limit: '10' } });
    expect(res.status).toBe(200);
    const runs = res.body.runs as { kind: string; status: string; steps: { name: string }[]; dataTestProblems: { testId: string }[] }[];
    expect(runs.map((r) => r.kind)).toEqual(['transform', 'upload_ingest']);
    expect(runs[0]!.steps.map((s) => s.name)).toContain('tests gold.fact_company_activity_daily');
    expect((await call('runs', { query: { status: 'failed' } })).body.runs).toEqual([]);
    expect(((await call('runs', { query: { limit: '1' } })).body.runs as unknown[]).length).toBe(1);
  });

  it('traces a gold row to the CRM line and the bronze usage lines it came from', async () => {
    await smallPipeline();
    const res = await call('trace', { query: { company: 'A', date: '2024-01-03' } });
    expect(res.status).toBe(200);
    const body = res.body as {
      gold: { active_users: number; active_users_7d: number; company_name: string };
      crm: { landingFile: string; line: number; bronzeFiles: string[] };
      usage: { activityDate: string; activeUsers: number; bronzeFile: string; line: number }[];
    };
    expect(body.gold).toMatchObject({ active_users: 3, active_users_7d: 6, company_name: 'Alpha' });
    // the CRM line: that line of the landing file is company A's row
    expect(body.crm).toMatchObject({ landingFile: 'landing/crm_company_daily/crm.csv', line: 2 });
    const csvLines = (await readBlobText(ctx.storage, 'landing', 'crm_company_daily/crm.csv')).split('\n');
    expect(csvLines[body.crm.line - 1]).toBe('A,Alpha,DE,saas,,2024-01-01');
    const [bronzeCrm] = body.crm.bronzeFiles;
    const carried = jsonLines<{ company_id: string; name: string; _row_number: number }>(await readBlobText(ctx.storage, 'bronze', bronzeCrm!.replace(/^bronze\//, '')));
    expect(carried.find((l) => l._row_number === body.crm.line)).toMatchObject({ company_id: 'A', name: 'Alpha' });
    // each usage row: that line of that bronze blob holds the same values
    expect(body.usage.map((u) => u.activityDate)).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    for (const u of body.usage) {
      const lines = (await readBlobText(ctx.storage, 'bronze', u.bronzeFile.replace(/^bronze\//, ''))).split('\n');
      expect(JSON.parse(lines[u.line - 1]!)).toMatchObject({ company_id: 'A', active_users: u.activeUsers, activity_date: u.activityDate, _row_number: u.line });
    }
  });
});

describe('the monitor', () => {
  it('reports messages waiting in poison queues without consuming them', async () => {
    const poison = ctx.storage.queues.getQueueClient('transform-requests-poison');
    await poison.createIfNotExists();
    try {
      await poison.sendMessage(Buffer.from('{"source":"product_usage"}').toString('base64'));
      const found = await checkPoisonQueues(ctx);
      expect(found).toEqual([
        { queue: 'landing-events-poison', messages: 0 },
        { queue: 'transform-requests-poison', messages: 1 },
      ]);
      expect(ctx.telemetry.metrics.filter((m) => m.name === METRICS.poisonMessages)).toEqual([
        { name: METRICS.poisonMessages, value: 0, dimensions: { queue: 'landing-events-poison' } },
        { name: METRICS.poisonMessages, value: 1, dimensions: { queue: 'transform-requests-poison' } },
      ]);
      expect(ctx.telemetry.events).toEqual([{ name: EVENTS.poisonMessage, properties: expect.objectContaining({ queue: 'transform-requests-poison', messages: 1 }) as unknown }]);
      expect((await poison.getProperties()).approximateMessagesCount).toBe(1);
    } finally {
      await poison.delete();
    }
  });
});

describe('npm run ops after npm start', () => {
  const exec = promisify(execFile);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ops-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const tsx = (script: string, args: string[]) =>
    exec(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, PIPELINE_LOCAL_DIR: dir }, timeout: 120_000 });

  it('traces a gold row of the local run to its bronze file and line', async () => {
    await tsx('functions/local/runOnce.ts', ['--companies', '4', '--days', '3', '--quiet']);
    const yesterday = addDays(toIsoDate(new Date()), -1);
    const { stdout } = await tsx('functions/local/ops.ts', ['trace', '--company', 'C000002', '--date', yesterday, '--json']);
    const traced = JSON.parse(stdout) as { gold: { active_users: number }; usage: { activityDate: string; activeUsers: number; bronzeFile: string; line: number }[] };
    const day = traced.usage.find((u) => u.activityDate === yesterday)!;
    expect(day.activeUsers).toBe(traced.gold.active_users);

    const host = await LocalHost.start({ dir, log: { info: () => {}, warn: () => {}, error: () => {} } });
    try {
      const lines = (await readBlobText(host.storage, 'bronze', day.bronzeFile.replace(/^bronze\//, ''))).split('\n');
      expect(JSON.parse(lines[day.line - 1]!)).toMatchObject({ company_id: 'C000002', activity_date: yesterday, active_users: day.activeUsers });
    } finally {
      await host.stop();
    }
    // a bad request: exit code 2 and the reason
    const bad = await tsx('functions/local/ops.ts', ['trace', '--company', 'C000002', '--date', 'yesterday']).catch((e: { code: number; stdout: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stdout: string }).stdout).toMatch(/trace: date: expected a calendar date as YYYY-MM-DD/);
  }, 180_000);
});
