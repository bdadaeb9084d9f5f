/**
 * The usage ingest end to end up to bronze: real Azurite, real DuckDB (in memory), real local
 * usage API server. Retry delays are a few milliseconds through settings.
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqlTimestampText, type PipelineContext } from '../functions/core/context.js';
import { memoryLog } from '../functions/core/log.js';
import { noTelemetry } from '../functions/core/telemetry.js';
import { loadSettings } from '../functions/core/settings.js';
import { runUsageIngest, usageBronzePath, usageQuarantinePath } from '../functions/ingest/usageIngest.js';
import { startAzurite, type AzuriteHandle } from '../functions/local/azurite.js';
import { startUsageApiServer, usageRecordsFor, type UsageApiServer } from '../functions/local/usageApiServer.js';
import { readWatermark } from '../functions/ops/watermarks.js';
import { container, createStorageClients, decodeQueueJson, ensureStorage, queue, type StorageClients } from '../functions/storage/blobStore.js';
import { transformRequestSchema } from '../functions/transform/requests.js';
import { TABLES } from '../functions/warehouse/catalog.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';

const SEED = 11;
const COMPANIES = 60;
const TOKEN = 'ingest-test-token';
const NOW = new Date('2025-03-11T02:00:00Z'); // yesterday = 2025-03-10
const BAD_RATE = 0.15;

let azurite: AzuriteHandle;
let server: UsageApiServer;
let badServer: UsageApiServer;
let storage: StorageClients;
let warehouse: DuckDbWarehouse;
let log: ReturnType<typeof memoryLog>;

function context(env: Record<string, string> = {}): PipelineContext {
  const settings = loadSettings({
    AzureWebJobsStorage: azurite.connectionString,
    USAGE_API_BASE_URL: server.url,
    USAGE_API_TOKEN: TOKEN,
    USAGE_API_PAGE_SIZE: '20',
    USAGE_API_TIMEOUT_MS: '2000',
    USAGE_API_MAX_ATTEMPTS: '3',
    USAGE_API_RETRY_BASE_MS: '1',
    USAGE_API_RETRY_MAX_MS: '5',
    USAGE_FETCH_CONCURRENCY: '2',
    USAGE_START_DATE: '2025-03-01',
    USAGE_MAX_DATES_PER_RUN: '4',
    ...env,
  });
  return { settings, storage, warehouse, log, telemetry: noTelemetry, now: () => NOW };
}

async function blobText(containerName: 'bronze' | 'quarantine', path: string): Promise<string | undefined> {
  const blob = container(storage, containerName).getBlobClient(path);
  if (!(await blob.exists())) return undefined;
  return (await blob.downloadToBuffer()).toString('utf8');
}

async function listBlobs(containerName: 'bronze' | 'quarantine'): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const b of container(storage, containerName).listBlobsFlat()) out.set(b.name, b.properties.etag ?? '');
  return out;
}

async function transformMessages() {
  const res = await queue(storage, 'transformRequests').receiveMessages({ numberOfMessages: 32 });
  return res.receivedMessageItems.map((m) => transformRequestSchema.parse(decodeQueueJson(m.messageText)));
}

async function runs() {
  return warehouse.query<{ status: string; rows_in: number | null; rows_out: number | null; rows_rejected: number | null; error: string | null }>(
    `SELECT status, rows_in, rows_out, rows_rejected, error FROM ops.pipeline_runs ORDER BY started_at`,
  );
}

const validRecords = (date: string) => usageRecordsFor(SEED, COMPANIES, date);

beforeAll(async () => {
  azurite = await startAzurite();
  server = await startUsageApiServer({ seed: SEED, companies: COMPANIES, token: TOKEN });
  badServer = await startUsageApiServer({ seed: SEED, companies: COMPANIES, token: TOKEN, badRecordRate: BAD_RATE });
  storage = createStorageClients(loadSettings({ AzureWebJobsStorage: azurite.connectionString }));
  await ensureStorage(storage);
});

afterAll(async () => {
  await server?.stop();
  await badServer?.stop();
  await azurite?.stop();
});

beforeEach(async () => {
  // Each test starts from empty storage and an empty warehouse.
  for (const name of ['bronze', 'quarantine'] as const) for await (const b of container(storage, name).listBlobsFlat()) await container(storage, name).deleteBlob(b.name);
  await queue(storage, 'transformRequests').clearMessages();
  server.setFailures([]);
  server.requests.reset();
  warehouse = await DuckDbWarehouse.open(':memory:');
  log = memoryLog();
});

afterEach(async () => {
  await warehouse.close();
});

describe('usage ingest', () => {
  it('catches up from the watermark, bounded per run, and writes bronze lines the warehouse loads', async () => {
    const ctx = context();
    const first = await runUsageIngest(ctx);
    expect(first.written).toEqual(['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04']);
    expect(first.remaining).toBe(6);
    expect(await readWatermark(warehouse, 'product_usage')).toBe('2025-03-04');
    expect(log.lines.some((l) => l.level === 'warn' && l.message.includes('6 date(s) remain'))).toBe(true);

    // The bronze blob of one date: the records in API order with their line numbers; the lineage
    // that is the same on every line is blob metadata.
    const date = '2025-03-03';
    const text = (await blobText('bronze', usageBronzePath(date)))!;
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = validRecords(date);
    expect(lines).toHaveLength(expected.length);
    const columns = ['company_id', 'activity_date', 'active_users', 'events', '_row_number'];
    lines.forEach((line, i) => {
      expect(Object.keys(line)).toEqual(columns);
      expect(line).toEqual({
        company_id: expected[i]!.company_id,
        activity_date: date,
        active_users: expected[i]!.active_users,
        events: expected[i]!.events,
        _row_number: i + 1,
      });
    });
    const props = await container(storage, 'bronze').getBlobClient(usageBronzePath(date)).getProperties();
    expect(props.metadata).toEqual({
      source: 'product_usage',
      source_file: encodeURIComponent(`bronze/product_usage/activity_date=${date}/usage.jsonl`),
      ingested_at: NOW.toISOString(),
      min_date: date,
      max_date: date,
      row_count: String(expected.length),
    });

    // The format loads into bronze.product_usage as-is, with the lineage the loader stamps.
    const loaded = await warehouse.loadJsonLines(TABLES.bronzeProductUsage, Readable.from([text]), {
      _source_file: `bronze/${usageBronzePath(date)}`,
      _ingested_at: sqlTimestampText(NOW),
      _bronze_file: `bronze/${usageBronzePath(date)}`,
    });
    expect(loaded).toBe(expected.length);
    const [sums] = await warehouse.query<{ users: number; events: number }>(`SELECT SUM(active_users) AS users, SUM(events) AS events FROM bronze.product_usage`);
    expect(sums).toEqual({ users: expected.reduce((s, r) => s + r.active_users, 0), events: expected.reduce((s, r) => s + r.events, 0) });

    const second = await runUsageIngest(ctx);
    expect(second.written).toEqual(['2025-03-05', '2025-03-06', '2025-03-07', '2025-03-08']);
    const third = await runUsageIngest(ctx);
    expect(third.written).toEqual(['2025-03-09', '2025-03-10']);
    expect(third.remaining).toBe(0);
    expect(await readWatermark(warehouse, 'product_usage')).toBe('2025-03-10');

    const messages = await transformMessages();
    expect(messages.map((m) => [m.source, m.from, m.to, m.reason])).toEqual([
      ['product_usage', '2025-03-01', '2025-03-04', 'usage_ingest'],
      ['product_usage', '2025-03-05', '2025-03-08', 'usage_ingest'],
      ['product_usage', '2025-03-09', '2025-03-10', 'usage_ingest'],
    ]);
    const recorded = await runs();
    expect(recorded.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const steps = await warehouse.query<{ step_name: string; rows_in: number; rows_out: number; detail: string }>(
      `SELECT step_name, rows_in, rows_out, detail FROM ops.run_steps WHERE step_name = 'pull 2025-03-03'`,
    );
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ rows_in: expected.length, rows_out: expected.length });
    expect(JSON.parse(steps[0]!.detail)).toMatchObject({ rejects: 0, pages: Math.ceil(expected.length / 20) });
  });

  it('changes nothing when run again after catching up', async () => {
    const ctx = context({ USAGE_MAX_DATES_PER_RUN: '31' });
    await runUsageIngest(ctx);
    await transformMessages(); // drain (received messages stay invisible for 30 s)
    const before = await listBlobs('bronze');
    expect(before.size).toBe(10);
    const requestsBefore = server.requests.count;

    const again = await runUsageIngest(ctx);
    expect(again.written).toEqual([]);
    expect(server.requests.count).toBe(requestsBefore);
    expect(await listBlobs('bronze')).toEqual(before);
    expect(await readWatermark(warehouse, 'product_usage')).toBe('2025-03-10');
    expect(await transformMessages()).toEqual([]);
    expect((await runs()).map((r) => r.status)).toEqual(['succeeded', 'skipped']);

    // An explicit re-pull of a date replaces its blob with the same content and leaves the watermark alone.
    const blobBefore = await blobText('bronze', usageBronzePath('2025-03-02'));
    const repull = await runUsageIngest(ctx, { dates: ['2025-03-02'] });
    expect(repull.written).toEqual(['2025-03-02']);
    expect(await blobText('bronze', usageBronzePath('2025-03-02'))).toBe(blobBefore);
    expect(await readWatermark(warehouse, 'product_usage')).toBe('2025-03-10');
  });

  it('stops the watermark at the last contiguous written date when a date fails, records the run failed, and resumes there', async () => {
    const ctx = context({ USAGE_MAX_DATES_PER_RUN: '6', USAGE_FETCH_CONCURRENCY: '3' });
    server.setFailures([{ mode: '503', times: 100, dates: ['2025-03-03'] }]);

    const err = await runUsageIngest(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/2025-03-03.*after 3 attempts.*HTTP 503/);
    expect(await readWatermark(warehouse, 'product_usage')).toBe('2025-03-02');
    expect(await blobText('bronze', usageBronzePath('2025-03-03'))).toBeUndefined();
    expect(await blobText('bronze', usageBronzePath('2025-03-02'))).toBeDefined();

    const [run] = await runs();
    expect(run!.status).toBe('failed');
    expect(run!.error).toContain('2025-03-03');
    expect(run!.error).toContain('HTTP 503');
    const failedSteps = await warehouse.query<{ step_name: string; error: string }>(`SELECT step_name, error FROM ops.run_steps WHERE status = 'failed'`);
    expect(failedSteps.map((s) => s.step_name)).toEqual(['pull 2025-03-03']);
    expect(log.lines.some((l) => l.level === 'error' && l.message.includes('usage_ingest run failed'))).toBe(true);

    // What was written is still announced to the transform.
    const [message] = await transformMessages();
    expect(message).toMatchObject({ source: 'product_usage', from: '2025-03-01' });

    // The API recovers: the next run starts at the failed date.
    server.setFailures([]);
    server.requests.reset();
    const next = await runUsageIngest(ctx);
    expect(server.requests.log[0]!.date).toBe('2025-03-03');
    expect(next.written[0]).toBe('2025-03-03');
    expect(await readWatermark(warehouse, 'product_usage')).toBe('2025-03-08');
    expect((await runs()).map((r) => r.status)).toEqual(['failed', 'succeeded']);
  });

  it('quarantines bad records with field and reason; accepted + quarantined = received', async () => {
    const ctx = context({ USAGE_API_BASE_URL: badServer.url });
    const dates = ['2025-03-01', '2025-03-02'];
    const result = await runUsageIngest(ctx, { dates });

    let served = 0;
    for (const date of dates) {
      const sent = usageRecordsFor(SEED, COMPANIES, date, BAD_RATE);
      served += sent.length;
      const bronze = (await blobText('bronze', usageBronzePath(date)))!.trimEnd().split('\n');
      const quarantined = (await blobText('quarantine', usageQuarantinePath(date)))!
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { source: string; file: string; line: number; field: string; reason: string; record: unknown });
      expect(bronze.length + quarantined.length).toBe(sent.length);
      expect(quarantined.length).toBeGreaterThan(0);
      for (const q of quarantined) {
        expect(Object.keys(q)).toEqual(['source', 'file', 'line', 'field', 'reason', 'record']);
        expect(q.source).toBe('product_usage');
        expect(q.file).toBe(`GET ${badServer.url}/v1/usage?date=${date}&page_size=20`);
        expect(q.record).toEqual(sent[q.line - 1]);
        expect(q.field).toMatch(/^(company_id|date|active_users|events)$/);
        expect(q.reason).not.toBe('');
      }
    }
    expect(result.received).toBe(served);
    expect(result.accepted + result.rejected).toBe(served);
    const [run] = await runs();
    expect(run).toMatchObject({ status: 'succeeded', rows_in: served, rows_out: result.accepted, rows_rejected: result.rejected });

    // A re-pull without bad records removes the stale quarantine file.
    await runUsageIngest(context(), { dates: ['2025-03-01'] });
    expect(await blobText('quarantine', usageQuarantinePath('2025-03-01'))).toBeUndefined();
    expect((await blobText('bronze', usageBronzePath('2025-03-01')))!.trimEnd().split('\n')).toHaveLength(validRecords('2025-03-01').length);
  });

  it('writes an empty blob for a date without data and fails clearly without API settings', async () => {
    const empty = await startUsageApiServer({ seed: SEED, companies: 0, token: TOKEN });
    try {
      const result = await runUsageIngest(context({ USAGE_API_BASE_URL: empty.url }), { dates: ['2025-03-01'] });
      expect(result.written).toEqual(['2025-03-01']);
      expect(await blobText('bronze', usageBronzePath('2025-03-01'))).toBe('');
      const props = await container(storage, 'bronze').getBlobClient(usageBronzePath('2025-03-01')).getProperties();
      expect(props.metadata?.row_count).toBe('0');
    } finally {
      await empty.stop();
    }

    const ctx = context();
    ctx.settings.USAGE_API_TOKEN = undefined;
    await expect(runUsageIngest(ctx)).rejects.toThrow(/USAGE_API_BASE_URL and USAGE_API_TOKEN/);
    expect((await runs()).at(-1)!.status).toBe('failed');
  });
});
