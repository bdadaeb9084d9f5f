/**
 * The transform: load new bronze files into the warehouse's bronze tables, then rebuild the models
 * downstream of what changed, in the model graph's order (`graph.ts`). One run at a time (a lease);
 * requests that arrive meanwhile are recorded and picked up by the running transform before it
 * lets go.
 *
 * Each model is rebuilt and tested in a transaction of its own. A model that fails (an error, or a
 * data test of severity `error`) rolls back to what it was and stops only its descendants, which
 * are skipped with the reason; independent models and other domains carry on. The requests whose
 * models all built are done; the others stay pending, so the next trigger tries them again.
 */
import { randomUUID } from 'node:crypto';
import type { PipelineContext } from '../core/context.js';
import { unionRange, type DateRange } from '../core/dates.js';
import { MODEL_GRAPH } from '../domains/registry.js';
import { errorText, Run } from '../ops/runs.js';
import { blockingFailures, DataTestFailure, runDataTests, tableName, type DataTestResult, type TestScope } from '../quality/dataTests.js';
import { recordTestResults, type TestSummary } from '../quality/recordResults.js';
import { parameterNames } from '../warehouse/sqlText.js';
import type { SqlParams, SqlValue } from '../warehouse/warehouse.js';
import { SelectionError, type ModelGraph } from './graph.js';
import { explainModelError } from './diagnose.js';
import { listNewBronzeFiles, loadNewBronzeFiles } from './load.js';
import { insertsRows, modelTests, renderModelSql, type ModelDef } from './models.js';
import { releaseLease, tryAcquireLease } from './lease.js';
import { recordRequest, type TransformRequest } from './requests.js';

const LEASE = 'transform';
/** A transform keeps going while new requests arrive, but not forever. */
const MAX_PASSES = 10;

export interface TransformPass {
  runId: string;
  filesLoaded: number;
  rowsLoaded: number;
  /** The dates each source changed (loaded or requested), by source name; the models' dates are in `models`. */
  changes: Record<string, DateRange>;
  /** Models rebuilt, in build order. */
  models: { name: string; range: DateRange; rows: number }[];
  /** Models that failed: rolled back, their descendants skipped. */
  failed: { name: string; error: string; failedTests: string[] }[];
  /** Models not built because something they read failed (`because`: the model or source at the root). */
  skipped: { name: string; because: string }[];
  /** Data test counts over the pass (all stages). */
  tests: TestSummary;
}

/**
 * `blocked`: a model's data test with severity `error` failed; that model rolled back (it is as it
 * was), its descendants were skipped, the run is failed, and its dates stay pending until a later
 * run passes the tests. Everything independent of it was published.
 */
export type TransformOutcome =
  | { status: 'done'; passes: TransformPass[] }
  | { status: 'coalesced' }
  | { status: 'blocked'; passes: TransformPass[]; runId: string; error: string; failedTests: string[] };

/** A model failed for a reason other than its data tests (SQL, data the SQL cannot hold): the message is retried. */
export class TransformFailure extends Error {
  constructor(
    message: string,
    readonly pass: TransformPass,
  ) {
    super(message);
    this.name = 'TransformFailure';
  }
}

export async function runTransform(ctx: PipelineContext, requests: TransformRequest[] = [], triggerName = 'transform', graph: ModelGraph = MODEL_GRAPH): Promise<TransformOutcome> {
  // Record rebuild requests first: whoever holds the lease will see them, even if it is not us.
  // A 'load' request needs no record: the new files it announces are found by listing bronze.
  for (const r of requests) if (r.mode === 'rebuild') await recordRequest(ctx.warehouse, { source: r.source, from: r.from, to: r.to, reason: r.reason, ...(r.select ? { select: r.select } : {}) }, ctx.now());

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
        const pass = await transformPass(ctx, triggerName, graph);
        if (!pass) break;
        passes.push(pass);
        // A blocked model would only fail again in another pass: leave its dates pending.
        const blocked = pass.failed.filter((f) => f.failedTests.length > 0);
        if (blocked.length > 0) {
          const error = blocked.map((f) => `${f.name}: ${f.error}`).join('; ');
          return { status: 'blocked', passes, runId: pass.runId, error, failedTests: blocked.flatMap((f) => f.failedTests) };
        }
        await tryAcquireLease(ctx.warehouse, LEASE, owner, ctx.settings.TRANSFORM_LEASE_SECONDS, ctx.now()); // renew
      }
    } finally {
      await releaseLease(ctx.warehouse, LEASE, owner);
    }
    // Work that arrived while we held the lease was left to us (its trigger saw the lease taken):
    // look once more after letting go, or it would wait for the next trigger.
    if (!(await hasWork(ctx, graph))) break;
  }
  if (passes.length === 0) await recordSkipped(ctx, triggerName, 'nothing to do: no new bronze files and no pending requests');
  return { status: 'done', passes };
}

/** An invocation that found nothing to do still leaves a trace in the run history. */
async function recordSkipped(ctx: PipelineContext, triggerName: string, reason: string): Promise<void> {
  const run = await Run.start(ctx, 'transform', triggerName);
  await run.finish('skipped', { detail: reason });
}

async function hasWork(ctx: PipelineContext, graph: ModelGraph): Promise<boolean> {
  return (await pendingRequests(ctx)).length > 0 || (await listNewBronzeFiles(ctx, graph)).length > 0;
}

interface PendingRequest {
  request_id: string;
  source: string;
  date_from: string;
  date_to: string;
  selector: string | null;
}

function pendingRequests(ctx: PipelineContext): Promise<PendingRequest[]> {
  return ctx.warehouse.query<PendingRequest>(`SELECT request_id, source, date_from, date_to, selector FROM ops.transform_requests WHERE status = 'pending'`);
}

/** What a pass must build: changed sources (by bronze table) and models selected for a rebuild. */
interface Work {
  changes: Map<string, DateRange>;
  forced: Map<string, DateRange>;
  /** The models each request would rebuild: it is done when all of them built. */
  affects: Map<string, Set<string>>;
  /** Requests that name nothing the graph knows (a source or selector since removed): done, with a warning. */
  stale: string[];
}

function workOf(ctx: PipelineContext, graph: ModelGraph, pending: PendingRequest[]): Work {
  const work: Work = { changes: new Map(), forced: new Map(), affects: new Map(), stale: [] };
  for (const p of pending) {
    const range = { from: p.date_from, to: p.date_to };
    if (p.selector) {
      let selected: ModelDef[];
      try {
        selected = graph.select(p.selector);
      } catch (err) {
        if (!(err instanceof SelectionError)) throw err;
        ctx.log.warn(`transform request ${p.request_id} selects nothing this version knows; dropped`, { selector: p.selector, reason: err.message });
        work.stale.push(p.request_id);
        continue;
      }
      for (const m of selected) work.forced.set(m.name, unionRange(work.forced.get(m.name), range)!);
      work.affects.set(p.request_id, new Set(selected.map((m) => m.name)));
      continue;
    }
    const node = graph.sourceNode(p.source);
    if (!node) {
      ctx.log.warn(`transform request ${p.request_id} names a source this version does not know; dropped`, { source: p.source });
      work.stale.push(p.request_id);
      continue;
    }
    work.changes.set(node, unionRange(work.changes.get(node), range)!);
    work.affects.set(p.request_id, graph.descendants(node));
  }
  return work;
}


/** One run: returns undefined when there was nothing to do. */
async function transformPass(ctx: PipelineContext, triggerName: string, graph: ModelGraph): Promise<TransformPass | undefined> {
  const newFiles = await listNewBronzeFiles(ctx, graph);
  if (newFiles.length === 0 && (await pendingRequests(ctx)).length === 0) return undefined;

  const run = await Run.start(ctx, 'transform', triggerName);
  try {
    const { rowsLoaded } = await loadNewBronzeFiles(ctx, run, newFiles);
    const pending = await pendingRequests(ctx);
    const work = workOf(ctx, graph, pending);
    const result = await buildChanged(ctx, run, graph, work);

    // A request is done when every model it affects built; the rest stay pending for the next run.
    const notBuilt = new Set([...result.failed.map((f) => f.name), ...result.skipped.map((s) => s.name)]);
    const done = pending.filter((p) => work.stale.includes(p.request_id) || ![...(work.affects.get(p.request_id) ?? [])].some((m) => notBuilt.has(m)));
    await ctx.warehouse.transaction(async (tx) => {
      for (const p of done) await tx.exec(`UPDATE ops.transform_requests SET status = 'done', run_id = @run_id WHERE request_id = @id`, { run_id: run.runId, id: p.request_id });
    });

    const pass: TransformPass = {
      runId: run.runId,
      filesLoaded: newFiles.length,
      rowsLoaded,
      changes: Object.fromEntries([...work.changes].map(([table, range]) => [sourceName(graph, table), range])),
      models: result.built,
      failed: result.failed,
      skipped: result.skipped,
      tests: addSummaries(result.tests),
    };
    const rowsOut = pass.models.filter((m) => m.name.startsWith('gold.')).reduce((n, m) => n + m.rows, 0);
    const detail = { files: newFiles.length, changes: pass.changes, models: pass.models, tests: pass.tests, ...failureDetail(pass) };
    if (pass.failed.length === 0) {
      await run.finish('succeeded', { rowsIn: rowsLoaded, rowsOut, detail });
      await writeReport(ctx, run);
      return pass;
    }
    const error = describeFailures(pass);
    await run.finish('failed', { rowsIn: rowsLoaded, rowsOut, detail }, error);
    // what did publish is reported too, and its Pipeline health page shows the failure
    if (pass.models.length > 0) await writeReport(ctx, run);
    // A failure other than a data test (SQL, a value the SQL cannot hold, a lost connection) is
    // thrown, so the message is retried; data test failures are an answer (see `blocked`).
    if (pass.failed.some((f) => f.failedTests.length === 0)) throw new TransformFailure(error, pass);
    return pass;
  } catch (err) {
    if (!(err instanceof TransformFailure)) await run.finish('failed', {}, err).catch(() => undefined);
    throw err;
  }
}

/**
 * After a run that published models (all of them, or those independent of a failure), the HTML
 * report goes to the `reports` container (`GET /api/report` serves it), recorded as the run's step
 * `report`. The data is published
 * whatever happens here: a failure is logged and recorded on the step, never fails the run.
 */
async function writeReport(ctx: PipelineContext, run: Run): Promise<void> {
  const started = new Date();
  try {
    const { publishReport } = await import('../report/publish.js'); // the charting library loads only here
    const { blob, report } = await publishReport(ctx, run.runId);
    const failedPages = report.failed.map((p) => `${p.title}: ${p.error}`);
    const detail = { blob, bytes: report.bytes, ms: report.ms, pages: report.pages.map((p) => p.id), withoutData: report.withoutData.map((p) => p.id), failedPages };
    await run.recordStep('report', failedPages.length ? 'failed' : 'succeeded', started, { rowsOut: report.pages.length, detail }, failedPages.length ? `report written, but pages failed: ${failedPages.join('; ')}` : null);
  } catch (err) {
    await run.recordStep('report', 'failed', started, {}, `the report could not be written: ${errorText(err)}`).catch(() => undefined);
  }
}

function sourceName(graph: ModelGraph, table: string): string {
  const node = graph.node(table);
  return node.kind === 'source' ? node.source.name : table;
}

function failureDetail(pass: TransformPass): Record<string, unknown> {
  if (pass.failed.length === 0) return {};
  return { failedModels: pass.failed, skippedModels: pass.skipped };
}

/** `gold.x failed: …; skipped because gold.x failed: a, b`. */
export function describeFailures(pass: Pick<TransformPass, 'failed' | 'skipped'>): string {
  return pass.failed
    .map((f) => {
      const skipped = pass.skipped.filter((s) => s.because === f.name).map((s) => s.name);
      return `${f.name} failed: ${f.error}${skipped.length ? ` (skipped because of it: ${skipped.join(', ')})` : ''}`;
    })
    .join('; ');
}

interface BuildResult {
  built: TransformPass['models'];
  failed: TransformPass['failed'];
  skipped: TransformPass['skipped'];
  tests: TestSummary[];
}

/**
 * The sources' tests over what changed, then every model downstream, in build order. A model's
 * dates come from its parents' changes (`affectedDates`) and any rebuild that selects it.
 */
async function buildChanged(ctx: PipelineContext, run: Run, graph: ModelGraph, work: Work): Promise<BuildResult> {
  const changes = new Map(work.changes);
  const result: BuildResult = { built: [], failed: [], skipped: [], tests: [] };
  /** Nodes that did not publish, with the root failure each traces back to. */
  const notPublished = new Map<string, string>();

  // Stage bronze: each changed source's tests over the dates loaded or requested.
  for (const [table, range] of work.changes) {
    const node = graph.node(table);
    if (node.kind !== 'source' || node.source.checks.tests.length === 0) continue;
    const scope: TestScope = { table: node.source.table, dateColumn: node.source.dateColumn, range, now: ctx.now() };
    const started = new Date();
    const results = await runDataTests(ctx.warehouse, node.source.checks.tests, scope);
    result.tests.push(await recordTestResults(ctx, run, `tests ${tableName(node.source.table)}`, results, started, new Date()));
    const blocking = blockingFailures(results);
    if (blocking.length > 0) notPublished.set(table, table);
  }

  for (const model of graph.models) {
    const node = graph.node(model.name);
    const parentChanges = new Map(node.parents.flatMap((p) => (changes.has(p) ? [[p, changes.get(p)!] as const] : [])));
    const range = unionRange(model.affectedDates(parentChanges, ctx.settings), work.forced.get(model.name));
    if (!range) continue;
    // Descendants plan with this model's dates whether it builds or not, so a skip propagates.
    changes.set(model.name, range);
    const failedParent = node.parents.find((p) => notPublished.has(p));
    if (failedParent) {
      const because = notPublished.get(failedParent)!;
      notPublished.set(model.name, because);
      result.skipped.push({ name: model.name, because });
      await run.recordStep(model.name, 'skipped', new Date(), { detail: { because, from: range.from, to: range.to } }, `skipped: ${because} failed`);
      continue;
    }
    try {
      const built = await buildModel(ctx, run, graph, model, range);
      result.tests.push(built.tests);
      result.built.push({ name: model.name, range, rows: built.rows });
    } catch (err) {
      notPublished.set(model.name, model.name);
      const failedTests = err instanceof DataTestFailure ? err.failures.map((f) => f.testId) : [];
      result.failed.push({ name: model.name, error: err instanceof Error ? err.message : String(err), failedTests });
      ctx.log.error(`model ${model.name} failed; its descendants are skipped this run`, { error: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}

/** A model's own statements failed (not its tests): carries the engine's error out of the transaction. */
class ModelBuildError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * Rebuilds one model over `range` and runs its data tests before committing: delete, insert and
 * tests share one transaction, so readers never see a model half rebuilt, and a failing `error`
 * test rolls the model back to exactly what it was.
 */
async function buildModel(ctx: PipelineContext, run: Run, graph: ModelGraph, model: ModelDef, range: DateRange): Promise<{ rows: number; tests: TestSummary }> {
  const domain = graph.domains.find((d) => d.name === model.domain)!;
  const values = domain.values(ctx.settings);
  const params: Record<string, SqlValue> = { ...values.parameters, date_from: range.from, date_to: range.to };
  const statements = model.kind === 'sql' ? renderModelSql(model, ctx.warehouse.engine, values.slots) : [];
  const scope: TestScope = { table: model.table, dateColumn: model.refresh === 'date_range' ? model.dateColumn : undefined, range, now: ctx.now(), runId: run.runId };
  const tested: { results?: DataTestResult[]; started?: Date; finished?: Date } = {};
  try {
    const result = await run.step(model.name, () =>
      ctx.warehouse.transaction(async (tx) => {
        let rowsOut = 0;
        try {
          if (model.kind === 'code') rowsOut = (await model.build(tx, { table: model.table, range, settings: ctx.settings, engine: ctx.warehouse.engine, now: ctx.now() })).rowsOut;
          for (const sql of statements) {
            const changed = await tx.exec(sql, pick(params, parameterNames(sql), model));
            if (insertsRows(sql)) rowsOut += changed;
          }
        } catch (err) {
          throw new ModelBuildError(err); // explained once the transaction has rolled back
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
    if (err instanceof DataTestFailure) err.runId = run.runId;
    if (err instanceof ModelBuildError) throw await explainModelError(ctx, run, graph, model, err.cause);
    throw err;
  }
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

function pick(params: Record<string, SqlValue>, names: string[], model: ModelDef): SqlParams {
  const out: SqlParams = {};
  for (const n of names) {
    if (!(n in params)) throw new Error(`${model.name} uses @${n}, which its domain (${model.domain}) does not provide`);
    out[n] = params[n]!;
  }
  return out;
}
