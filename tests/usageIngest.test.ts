/**
 * The usage ingest end to end up to bronze: real Azurite, real DuckDB (in memory), real local
 * usage API server. Retry delays are a few milliseconds through settings.
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqlTimestampText, type PipelineContext } from '../functions/core/context.js';
import { memoryLog } from '../functions/core/log.js';
import { EVENTS, METRICS, memoryTelemetry, type RecordedTelemetry } from '../functions/core/telemetry.js';
import { loadSettings } from '../functions/core/settings.js';
import { runUsageIngest, usageBronzePath, usageQuarantinePath } from '../functions/ingest/usageIngest.js';
import { startAzurite, type AzuriteHandle } from '../functions/local/azurite.js';
import { startUsageApiServer, usageRecordsFor, type UsageApiServer } from '../functions/local/usageApiServer.js';
import { readWatermark } from '../functions/ops/watermarks.js';
import { container, createStorageClients, decodeQueueJson, ensureStorage, queue, type StorageClients } from '../functions/storage/blobStore.js';
import { transformRequestSchema } from '../functions/transform/requests.js';
import { tableNamed, WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
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

function context(env: Record<string, string> = {}): PipelineContext & { telemetry: RecordedTelemetry } {
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
  return { settings, storage, warehouse, log, telemetry: memoryTelemetry(), now: () => NOW };
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
  server.setDrift(undefined);
  server.requests.reset();
  warehouse = await DuckDbWarehouse.open(':memory:', { schema: WAREHOUSE_SCHEMA });
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
    const loaded = await warehouse.loadJsonLines(tableNamed('bronze.product_usage'), Readable.from([text]), {
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
    // A few bad records are no schema drift.
    expect(result.drift).toEqual([]);
    expect(await warehouse.query(`SELECT * FROM ops.schema_drift`)).toEqual([]);
    // One landed / quarantined metric per pulled date.
    const metric = (name: string) => ctx.telemetry.metrics.filter((m) => m.name === name);
    expect(metric(METRICS.rowsLanded).map((m) => m.dimensions)).toEqual([{ source: 'product_usage' }, { source: 'product_usage' }]);
    expect(metric(METRICS.rowsLanded).reduce((n, m) => n + m.value, 0)).toBe(result.accepted);
    expect(metric(METRICS.rowsQuarantined).reduce((n, m) => n + m.value, 0)).toBe(result.rejected);
    const [run] = await runs();
    expect(run).toMatchObject({ status: 'succeeded', rows_in: served, rows_out: result.accepted, rows_rejected: result.rejected });

    // A re-pull without bad records removes the stale quarantine file.
    await runUsageIngest(context(), { dates: ['2025-03-01'] });
    expect(await blobText('quarantine', usageQuarantinePath('2025-03-01'))).toBeUndefined();
    expect((await blobText('bronze', usageBronzePath('2025-03-01')))!.trimEnd().split('\n')).toHaveLength(validRecords('2025-03-01').length);
  });

  it('records schema drift per pulled date: a new field (dropped from bronze) and a field sent with another type (its records quarantined)', async () => {
    const ctx = context();
    const date = '2025-03-02';
    const file = `bronze/${usageBronzePath(date)}`; // drift is recorded against the date's bronze blob
    const request = `GET ${server.url}/v1/usage?date=${date}&page_size=20`; // quarantine lines name the request
    const expected = validRecords(date);
    type DriftRow = { run_id: string; source: string; source_file: string; drift_kind: string; column_name: string; expected: string | null; observed: string | null; detail: string };
    const driftRows = () =>
      warehouse.query<DriftRow>(`SELECT run_id, source, source_file, drift_kind, column_name, expected, observed, detail FROM ops.schema_drift ORDER BY drift_kind, column_name`);

    // 1. The provider adds a field: every record still lands, without it; the field is drift.
    server.setDrift({ extraFields: { plan: 'enterprise' } });
    const first = await runUsageIngest(ctx, { dates: [date] });
    expect(first).toMatchObject({ accepted: expected.length, rejected: 0 });
    const lines = (await blobText('bronze', usageBronzePath(date)))!.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(expected.length);
    expect(Object.keys(lines[0]!)).toEqual(['company_id', 'activity_date', 'active_users', 'events', '_row_number']);
    expect(first.drift).toEqual([
      {
        date,
        file,
        findings: [
          {
            kind: 'new_column',
            column: 'plan',
            observed: 'string',
            example: '"enterprise"',
            detail: `field "plan" is not in the product_usage contract (in ${expected.length} of ${expected.length} records, e.g. "enterprise"); not landed in bronze`,
          },
        ],
      },
    ]);
    expect(await driftRows()).toEqual([
      expect.objectContaining({ run_id: first.runId, source: 'product_usage', source_file: file, drift_kind: 'new_column', column_name: 'plan', expected: null, observed: 'string' }),
    ]);
    const [run] = await warehouse.query<{ detail: string }>(`SELECT detail FROM ops.pipeline_runs WHERE run_id = @id`, { id: first.runId });
    expect((JSON.parse(run!.detail) as { drift: unknown }).drift).toEqual(first.drift);
    expect(log.lines.filter((l) => l.level === 'warn' && l.message.startsWith('schema drift')).map((l) => l.message)).toEqual([`schema drift in ${file}: new_column "plan"`]);

    // A re-pull of the same date replaces its drift rows: no duplicates.
    await runUsageIngest(ctx, { dates: [date] });
    expect((await driftRows()).map((r) => [r.drift_kind, r.column_name])).toEqual([['new_column', 'plan']]);

    // 2. active_users arrives as strings: those records are bad (quarantined), and the type change is drift.
    server.setDrift({ numbersAsStrings: ['active_users'] });
    const second = await runUsageIngest(ctx, { dates: [date] });
    expect(second).toMatchObject({ accepted: 0, rejected: expected.length });
    expect(await blobText('bronze', usageBronzePath(date))).toBe('');
    const quarantined = (await blobText('quarantine', usageQuarantinePath(date)))!.trimEnd().split('\n').map((l) => JSON.parse(l) as { file: string; field: string; reason: string });
    expect(quarantined).toHaveLength(expected.length);
    expect(quarantined.every((q) => q.file === request && q.field === 'active_users' && /expected number, received string/.test(q.reason))).toBe(true);
    const changed = await driftRows();
    expect(changed).toEqual([
      expect.objectContaining({ run_id: second.runId, source_file: file, drift_kind: 'changed_type', column_name: 'active_users', expected: 'integer', observed: 'string' }),
    ]);
    expect(changed[0]!.detail).toMatch(new RegExp(`^${expected.length} of ${expected.length} values of "active_users" are not integer \\(mostly string, e\\.g\\. "\\d+"\\); those records are quarantined$`));

    // 3. Back to the contract: a clean re-pull clears the date's drift.
    server.setDrift(undefined);
    const third = await runUsageIngest(ctx, { dates: [date] });
    expect(third.drift).toEqual([]);
    expect(await driftRows()).toEqual([]);

    // Reported per finding (metric + event) and per date (rows landed / quarantined).
    const metrics = (name: string) => ctx.telemetry.metrics.filter((m) => m.name === name).map((m) => ({ value: m.value, ...m.dimensions }));
    expect(metrics(METRICS.schemaDrift)).toEqual([
      { value: 1, source: 'product_usage', kind: 'new_column' },
      { value: 1, source: 'product_usage', kind: 'new_column' },
      { value: 1, source: 'product_usage', kind: 'changed_type' },
    ]);
    expect(ctx.telemetry.events.filter((e) => e.name === EVENTS.schemaDrift).map((e) => e.properties)).toEqual([
      { runId: first.runId, source: 'product_usage', file, kind: 'new_column', column: 'plan', expected: null, observed: 'string' },
      expect.objectContaining({ source: 'product_usage', file, kind: 'new_column', column: 'plan' }),
      { runId: second.runId, source: 'product_usage', file, kind: 'changed_type', column: 'active_users', expected: 'integer', observed: 'string' },
    ]);
    expect(metrics(METRICS.rowsLanded).map((m) => m.value)).toEqual([expected.length, expected.length, 0, expected.length]);
    expect(metrics(METRICS.rowsQuarantined).map((m) => m.value)).toEqual([0, 0, expected.length, 0]);
    expect(ctx.telemetry.metrics.filter((m) => m.name === METRICS.rowsLanded).every((m) => m.dimensions.source === 'product_usage')).toBe(true);
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
