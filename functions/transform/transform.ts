/**
 * The transform: load new bronze files into the warehouse's bronze tables, then rebuild the
 * silver and gold models over the dates that changed. One run at a time (a lease); requests that
 * arrive meanwhile are recorded and picked up by the running transform before it lets go.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sqlTimestampText, type PipelineContext } from '../core/context.js';
import { METRICS } from '../core/telemetry.js';
import { addDays, dateRange, unionRange, type DateRange, type IsoDate } from '../core/dates.js';
import { Run } from '../ops/runs.js';
import { blockingFailures, DataTestFailure, runDataTests, tableName, type DataTest, type DataTestResult, type TestScope } from '../quality/dataTests.js';
import { recordTestResults, type TestSummary } from '../quality/recordResults.js';
import { BRONZE_SOURCES, type BronzeSource } from '../sources/registry.js';
import { container, readBronzeLineage } from '../storage/blobStore.js';
import { TABLES } from '../warehouse/catalog.js';
import { parameterNames } from '../warehouse/sqlText.js';
import type { SqlParams, SqlSession } from '../warehouse/warehouse.js';
import { insertsRows, lookbackDays, MODELS, modelParameters, modelTests, renderModelSql, type ModelDef } from './models.js';
import { releaseLease, tryAcquireLease } from './lease.js';
import type { TransformRequest } from './requests.js';

const LEASE = 'transform';
/** A transform keeps going while new requests arrive, but not forever. */
const MAX_PASSES = 10;

export interface TransformPass {
  runId: string;
  filesLoaded: number;
  rowsLoaded: number;
  changes: Record<string, DateRange>;
  models: { name: string; range: DateRange; rows: number }[];
  /** Data test counts over the pass (all stages). */
  tests: TestSummary;
}

/**
 * `blocked`: a data test with severity `error` failed; the stage it tested rolled back (gold is as
 * it was), the run is failed, and its dates stay pending until a later run passes the tests.
 */
export type TransformOutcome =
  | { status: 'done'; passes: TransformPass[] }
  | { status: 'coalesced' }
  | { status: 'blocked'; passes: TransformPass[]; runId: string; error: string; failedTests: string[] };

export async function runTransform(ctx: PipelineContext, requests: TransformRequest[] = [], triggerName = 'transform'): Promise<TransformOutcome> {
  // Record rebuild requests first: whoever holds the lease will see them, even if it is not us.
  // A 'load' request needs no record: the new files it announces are found by listing bronze.
  for (const r of requests) if (r.mode === 'rebuild') await recordRequest(ctx.warehouse, r, ctx.now());

  const owner = randomUUID();
  const passes: TransformPass[] = [];
  for (let attempt = 0; attempt < MAX_PASSES; attempt++) {
    if (!(await tryAcquireLease(ctx.warehouse, LEASE, owner, ctx.settings.TRANSFORM_LEASE_SECONDS, ctx.now()))) {
      if (passes.length) return { status: 'done', passes };
      await recordSkipped(ctx, triggerName, 'coalesced: a transform is already running and will pick up this work');
      return { status: 'coalesced' };
    }
    try {
      while (passes.length < MAX_PASSES) {
        const pass = await transformPass(ctx, triggerName);
        if (!pass) break;
        passes.push(pass);
        await tryAcquireLease(ctx.warehouse, LEASE, owner, ctx.settings.TRANSFORM_LEASE_SECONDS, ctx.now()); // renew
      }
    } catch (err) {
      // A blocked publication is an answer, not a crash: retrying the message would fail the same
      // way. The dates stay pending; the next trigger (new data, a replay, a rebuild) tries again.
      if (!(err instanceof DataTestFailure)) throw err;
      return { status: 'blocked', passes, runId: err.runId ?? '', error: err.message, failedTests: err.failures.map((f) => f.testId) };
    } finally {
      await releaseLease(ctx.warehouse, LEASE, owner);
    }
    // Work that arrived while we held the lease was left to us (its trigger saw the lease taken):
    // look once more after letting go, or it would wait for the next trigger.
    if (!(await hasWork(ctx))) break;
  }
  if (passes.length === 0) await recordSkipped(ctx, triggerName, 'nothing to do: no new bronze files and no pending requests');
  return { status: 'done', passes };
}

/** An invocation that found nothing to do still leaves a trace in the run history. */
async function recordSkipped(ctx: PipelineContext, triggerName: string, reason: string): Promise<void> {
  const run = await Run.start(ctx, 'transform', triggerName);
  await run.finish('skipped', { detail: reason });
}

async function hasWork(ctx: PipelineContext): Promise<boolean> {
  return (await pendingRequestCount(ctx)) > 0 || (await listNewBronzeFiles(ctx)).length > 0;
}

async function pendingRequestCount(ctx: PipelineContext): Promise<number> {
  const [pending] = await ctx.warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.transform_requests WHERE status = 'pending'`);
  return pending?.n ?? 0;
}

/**
 * Leaves dates to rebuild in `ops.transform_requests` (in the caller's transaction when given one).
 * Outside a transaction the statement may be retried after a lost acknowledgement: it inserts its
 * request only once.
 */
async function recordRequest(session: SqlSession, r: { source: string; from: IsoDate; to: IsoDate; reason: string }, now: Date): Promise<void> {
  await session.exec(
    `INSERT INTO ops.transform_requests (request_id, source, date_from, date_to, reason, requested_at, status)
     SELECT @id, @source, CAST(@date_from AS DATE), CAST(@date_to AS DATE), @reason, @now, 'pending'
     WHERE NOT EXISTS (SELECT 1 FROM ops.transform_requests WHERE request_id = @id)`,
    { id: randomUUID(), source: r.source, date_from: r.from, date_to: r.to, reason: recordedReason(r.reason), now },
  );
}

/** `reason` as `ops.transform_requests` holds it (a request from the queue is validated to fit; a load's is generated). */
function recordedReason(reason: string): string {
  const max = 256;
  return reason.length <= max ? reason : `${reason.slice(0, max - 1)}…`;
}

/** One run: returns undefined when there was nothing to do. */
async function transformPass(ctx: PipelineContext, triggerName: string): Promise<TransformPass | undefined> {
  const newFiles = await listNewBronzeFiles(ctx);
  if (newFiles.length === 0 && (await pendingRequestCount(ctx)) === 0) return undefined;

  const run = await Run.start(ctx, 'transform', triggerName);
  try {
    let rowsLoaded = 0;
    const batches = loadBatches(newFiles);
    // The next batch downloads while the current one loads: download and insert overlap.
    // (a download that fails while the previous batch loads surfaces when its turn comes)
    const prefetch = (batch: BronzeFile[]) => {
      const p = StagedBatch.download(ctx, batch);
      p.catch(() => undefined);
      return p;
    };
    let next = batches.length > 0 ? prefetch(batches[0]!) : undefined;
    try {
      for (let i = 0; i < batches.length; i++) {
        const batch = batches[i]!;
        const staged = await next!;
        next = i + 1 < batches.length ? prefetch(batches[i + 1]!) : undefined;
        const name = `load ${batch[0]!.source.name}: ${batch.length} file${batch.length > 1 ? 's' : ''} (${batch[0]!.path}${batch.length > 1 ? ' …' : ''})`;
        try {
          const loaded = await run.step(name, () => loadBronzeFiles(ctx, run.runId, batch, staged));
          rowsLoaded += loaded.rowsOut;
        } finally {
          await staged.remove();
        }
      }
    } finally {
      // a failed load leaves the prefetched batch behind: remove it too
      await next?.then((staged) => staged.remove()).catch(() => undefined);
    }

    // Everything to do, from the file loads and the requests, as one range per source.
    const pending = await ctx.warehouse.query<{ request_id: string; source: string; date_from: string; date_to: string }>(
      `SELECT request_id, source, date_from, date_to FROM ops.transform_requests WHERE status = 'pending'`,
    );
    const changes = new Map<string, DateRange>();
    for (const p of pending) changes.set(p.source, unionRange(changes.get(p.source), { from: p.date_from, to: p.date_to })!);

    const models: TransformPass['models'] = [];
    const testSummaries: TestSummary[] = [];
    if (changes.size > 0) {
      // Stage bronze: the sources' tests over the dates loaded or requested.
      for (const source of BRONZE_SOURCES) {
        const range = changes.get(source.name);
        const tests = source.checks.tests;
        if (!range || tests.length === 0) continue;
        testSummaries.push(await testBronze(ctx, run, tests, { table: source.table, dateColumn: source.dateColumn, range, now: ctx.now() }));
      }
      await run.step('calendar', () => ensureCalendar(ctx));
      // Stages silver and gold: each model is rebuilt and tested in one transaction.
      for (const model of MODELS) {
        const range = model.affectedDates(changes, ctx.settings);
        if (!range) continue;
        const built = await buildModel(ctx, run, model, range);
        testSummaries.push(built.tests);
        models.push({ name: model.name, range, rows: built.rows });
      }
    }
    const tests = addSummaries(testSummaries);

    // The requests are done only now, after every model built: a failure leaves them pending.
    await ctx.warehouse.transaction(async (tx) => {
      for (const p of pending) await tx.exec(`UPDATE ops.transform_requests SET status = 'done', run_id = @run_id WHERE request_id = @id`, { run_id: run.runId, id: p.request_id });
    });
    const gold = models.find((m) => m.name.startsWith('gold.'));
    await run.finish('succeeded', { rowsIn: rowsLoaded, rowsOut: gold?.rows ?? 0, detail: { files: newFiles.length, changes: Object.fromEntries(changes), models, tests } });
    return { runId: run.runId, filesLoaded: newFiles.length, rowsLoaded, changes: Object.fromEntries(changes), models, tests };
  } catch (err) {
    if (err instanceof DataTestFailure) err.runId = run.runId;
    await run.finish('failed', { detail: err instanceof DataTestFailure ? { failedTests: err.failures.map((f) => f.testId) } : undefined }, err).catch(() => undefined);
    throw err;
  }
}

/**
 * Rebuilds one model over `range` and runs its data tests before committing: delete, insert and
 * tests share one transaction, so readers never see a model half rebuilt, and a failing `error`
 * test rolls the model back to exactly what it was.
 */
async function buildModel(ctx: PipelineContext, run: Run, model: ModelDef, range: DateRange): Promise<{ rows: number; tests: TestSummary }> {
  const statements = renderModelSql(model, ctx.warehouse.engine, ctx.settings);
  const params = modelParameters(range, ctx.settings);
  const scope: TestScope = { table: model.table, dateColumn: model.refresh === 'date_range' ? model.dateColumn : undefined, range, now: ctx.now() };
  const tested: { results?: DataTestResult[]; started?: Date; finished?: Date } = {};
  try {
    const result = await run.step(model.name, () =>
      ctx.warehouse.transaction(async (tx) => {
        let rowsOut = 0;
        for (const sql of statements) {
          const changed = await tx.exec(sql, pick(params, parameterNames(sql)));
          if (insertsRows(sql)) rowsOut += changed;
        }
        tested.started = new Date();
        tested.results = await runDataTests(tx, modelTests(model, ctx.warehouse.engine), scope);
        tested.finished = new Date();
        const blocking = blockingFailures(tested.results);
        if (blocking.length > 0) throw new DataTestFailure(blocking);
        return { rowsOut, detail: { from: range.from, to: range.to, refresh: model.refresh } };
      }),
    );
    return { rows: result.rowsOut, tests: await recordTestResults(ctx, run, `tests ${model.name}`, tested.results!, tested.started!, tested.finished!) };
  } catch (err) {
    // the results of a rolled-back build are recorded all the same
    if (tested.results) await recordTestResults(ctx, run, `tests ${model.name}`, tested.results, tested.started!, tested.finished!);
    throw err;
  }
}

/** A source's tests after the load stage: read-only, so outside any transaction. */
async function testBronze(ctx: PipelineContext, run: Run, tests: DataTest[], scope: TestScope): Promise<TestSummary> {
  const started = new Date();
  const results = await runDataTests(ctx.warehouse, tests, scope);
  const summary = await recordTestResults(ctx, run, `tests ${tableName(scope.table)}`, results, started, new Date());
  const blocking = blockingFailures(results);
  if (blocking.length > 0) throw new DataTestFailure(blocking);
  return summary;
}

function addSummaries(all: TestSummary[]): TestSummary {
  return {
    tests: all.reduce((n, s) => n + s.tests, 0),
    passed: all.reduce((n, s) => n + s.passed, 0),
    warned: all.reduce((n, s) => n + s.warned, 0),
    failed: all.reduce((n, s) => n + s.failed, 0),
    problems: all.flatMap((s) => s.problems),
  };
}

function pick(params: Record<string, string | number>, names: string[]): SqlParams {
  const out: SqlParams = {};
  for (const n of names) {
    if (!(n in params)) throw new Error(`SQL uses @${n}, which the transform does not provide`);
    out[n] = params[n]!;
  }
  return out;
}

interface BronzeFile {
  source: BronzeSource;
  path: string; // in the bronze container
  etag: string;
  /** Lineage stamped on every row of the file (from the blob's metadata). */
  sourceFile: string;
  ingestedAt: Date;
  /** An earlier version of the blob was loaded (its rows must be replaced). */
  reload: boolean;
}

/** Bronze blobs that are new, or changed since they were loaded (a re-pull replaces a blob). */
async function listNewBronzeFiles(ctx: PipelineContext): Promise<BronzeFile[]> {
  const loaded = new Map(
    (await ctx.warehouse.query<{ bronze_file: string; etag: string }>(`SELECT bronze_file, etag FROM ops.loaded_files`)).map((r) => [r.bronze_file, r.etag]),
  );
  const bronze = container(ctx.storage, 'bronze');
  const files: BronzeFile[] = [];
  for (const source of BRONZE_SOURCES) {
    for await (const blob of bronze.listBlobsFlat({ prefix: `${source.name}/`, includeMetadata: true })) {
      if (!blob.name.endsWith('.jsonl')) continue;
      const etag = blob.properties.etag ?? '';
      if (loaded.get(`bronze/${blob.name}`) === etag) continue;
      const lineage = readBronzeLineage(blob.metadata);
      if (!lineage) {
        ctx.log.warn('bronze blob without lineage metadata skipped (not written by an ingester?)', { blob: `bronze/${blob.name}` });
        continue;
      }
      files.push({ source, path: blob.name, etag, ...lineage, reload: loaded.has(`bronze/${blob.name}`) });
    }
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * A batch of bronze blobs downloaded to local temporary files (the exact bytes of the etag
 * listed), so the next batch can download while the current one loads.
 */
class StagedBatch {
  private constructor(
    private readonly dir: string,
    readonly paths: string[],
  ) {}

  static async download(ctx: PipelineContext, files: BronzeFile[]): Promise<StagedBatch> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-load-'));
    const staged = new StagedBatch(dir, files.map((_f, i) => path.join(dir, `${i}.jsonl`)));
    try {
      const bronze = container(ctx.storage, 'bronze');
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < files.length; i = next++) {
          const res = await bronze.getBlobClient(files[i]!.path).download(0, undefined, { conditions: { ifMatch: files[i]!.etag } });
          await pipeline(res.readableStreamBody as Readable, createWriteStream(staged.paths[i]!));
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));
      return staged;
    } catch (err) {
      await staged.remove();
      throw err;
    }
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/** Files of one source per batch, so each batch is one bulk statement and one transaction. */
const FILES_PER_BATCH = 100;

function loadBatches(files: BronzeFile[]): BronzeFile[][] {
  const batches: BronzeFile[][] = [];
  for (const source of BRONZE_SOURCES) {
    const own = files.filter((f) => f.source === source);
    for (let i = 0; i < own.length; i += FILES_PER_BATCH) batches.push(own.slice(i, i + FILES_PER_BATCH));
  }
  return batches;
}

/**
 * Loads a batch of bronze blobs of one source, replacing whatever earlier versions of them
 * loaded, and leaves a request for the dates they touched (old and new content), all in one
 * transaction: the batch is loaded whole or not at all.
 */
async function loadBronzeFiles(ctx: PipelineContext, runId: string, files: BronzeFile[], staged: StagedBatch): Promise<{ rowsIn: number; rowsOut: number; detail: unknown }> {
  const source = files[0]!.source;
  const table = source.table;
  const target = `${table.schema}.${table.name}`;
  // `@f0, @f1, …`: placeholders generated here; the file names are bound as parameters
  const fileParams: SqlParams = {};
  const inList = files.map((f, i) => ((fileParams[`f${i}`] = `bronze/${f.path}`), `@f${i}`)).join(', ');
  const rangesSql = `SELECT _bronze_file, MIN(CAST(${source.dateColumn} AS DATE)) AS min_date, MAX(CAST(${source.dateColumn} AS DATE)) AS max_date, COUNT(*) AS row_count
                     FROM ${target} WHERE _bronze_file IN (${inList}) GROUP BY _bronze_file`;
  type FileRange = { _bronze_file: string; min_date: string; max_date: string; row_count: number };

  const loaded = await ctx.warehouse.transaction(async (tx) => {
    // Replacing earlier versions: their dates need rebuilding too. First loads skip the scans.
    const before = files.some((f) => f.reload) ? await tx.query<FileRange>(rangesSql, fileParams) : [];
    if (before.length > 0) await tx.exec(`DELETE FROM ${target} WHERE _bronze_file IN (${inList})`, fileParams);
    const rows = await tx.loadJsonLinesMany(
      table,
      files.map((f, i) => ({
        path: staged.paths[i]!,
        open: () => Promise.resolve(createReadStream(staged.paths[i]!)),
        constants: { _source_file: f.sourceFile, _ingested_at: sqlTimestampText(f.ingestedAt), _bronze_file: `bronze/${f.path}` },
      })),
    );
    const after = await tx.query<FileRange>(rangesSql, fileParams);
    let range: DateRange | undefined;
    for (const r of [...before, ...after]) range = unionRange(range, { from: r.min_date, to: r.max_date });

    const loaded = new Map(after.map((r) => [r._bronze_file, r]));
    await tx.exec(`DELETE FROM ops.loaded_files WHERE bronze_file IN (${inList})`, fileParams);
    const now = ctx.now();
    await tx.appendRows(
      TABLES.loadedFiles,
      files.map((f) => {
        const r = loaded.get(`bronze/${f.path}`);
        return [`bronze/${f.path}`, source.name, f.etag, r?.row_count ?? 0, r?.min_date ?? null, r?.max_date ?? null, now, runId];
      }),
    );
    if (range) await recordRequest(tx, { source: source.name, ...range, reason: `load of ${files.length} ${source.name} file(s)` }, now);
    return { rowsIn: rows, rowsOut: rows, detail: { files: files.length, dates: range ?? null } };
  });
  ctx.telemetry.metric(METRICS.rowsLoaded, loaded.rowsOut, { source: source.name });
  return loaded;
}

/** Keeps `silver.dim_calendar` a contiguous run of days covering all data and its windows. */
async function ensureCalendar(ctx: PipelineContext): Promise<{ rowsOut: number; detail: unknown }> {
  const [need] = await ctx.warehouse.query<{ lo: string | null; hi: string | null }>(
    `SELECT MIN(d) AS lo, MAX(d) AS hi FROM (
       SELECT MIN(CAST(snapshot_date AS DATE)) AS d FROM bronze.crm_company_daily
       UNION ALL SELECT MIN(activity_date) AS d FROM bronze.product_usage
       UNION ALL SELECT MAX(activity_date) AS d FROM bronze.product_usage
       UNION ALL SELECT MAX(CAST(snapshot_date AS DATE)) AS d FROM bronze.crm_company_daily
     ) bounds`,
  );
  if (!need?.lo || !need.hi) return { rowsOut: 0, detail: 'no data yet' };
  const lo = addDays(need.lo, -lookbackDays(ctx.settings));
  const hi = need.hi;
  const [have] = await ctx.warehouse.query<{ lo: string | null; hi: string | null }>(`SELECT MIN(calendar_date) AS lo, MAX(calendar_date) AS hi FROM silver.dim_calendar`);
  const gaps: DateRange[] = [];
  if (!have?.lo || !have.hi) gaps.push({ from: lo, to: hi });
  else {
    if (lo < have.lo) gaps.push({ from: lo, to: addDays(have.lo, -1) });
    if (hi > have.hi) gaps.push({ from: addDays(have.hi, 1), to: hi });
  }
  const missing: IsoDate[] = gaps.flatMap((g) => dateRange(g.from, g.to));
  if (missing.length > 0) {
    // Delete, then append, in one transaction: run twice (a retry after a lost acknowledgement),
    // it leaves the same days once. An append alone would add them twice where no key stops it.
    await ctx.warehouse.transaction(async (tx) => {
      for (const g of gaps) await tx.exec(`DELETE FROM silver.dim_calendar WHERE calendar_date BETWEEN CAST(@lo AS DATE) AND CAST(@hi AS DATE)`, { lo: g.from, hi: g.to });
      await tx.appendRows(TABLES.dimCalendar, missing.map((d) => [d]));
    });
  }
  return { rowsOut: missing.length, detail: { from: lo, to: hi } };
}
