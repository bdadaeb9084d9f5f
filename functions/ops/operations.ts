/**
 * Operations for the people who run the pipeline, the same behind the HTTP functions
 * (`triggers/ops.ts`, function-key auth) and the local CLI (`npm run ops`): list recent runs,
 * backfill the usage API for a date range, replay a bronze file, re-run transforms for a date
 * range (all models, a source's descendants or a selection), isolate a bronze file the models
 * cannot take, show freshness per source, trace a gold row to its inputs, print the lineage graph.
 *
 * Every input is validated with zod; a bad one gets status 400 and a message naming the field.
 */
import { z } from 'zod';
import type { PipelineContext } from '../core/context.js';
import { addDays, daysBetween, isIsoDate, toIsoDate, type IsoDate } from '../core/dates.js';
import { runUsageIngest } from '../ingest/usageIngest.js';
import { sourceFreshness } from '../quality/freshness.js';
import { BRONZE_SOURCES } from '../domains/registry.js';
import { USAGE_SOURCE } from '../domains/company_activity/sources/productUsage/contract.js';
import { container } from '../storage/blobStore.js';
import { copyToQuarantine, removeFromBronze } from '../transform/isolate.js';
import { lookbackDays } from '../domains/company_activity/windows.js';
import { MODEL_GRAPH } from '../domains/registry.js';
import { SelectionError } from '../transform/graph.js';
import { lineage } from './lineage.js';
import { recordRequest, requestTransform } from '../transform/requests.js';
import { Run } from './runs.js';

export interface OperationResult {
  /** HTTP status: 200 done, 202 accepted (the transform runs from its queue), 400, 404, 500. */
  status: number;
  body: unknown;
}

const isoDate = z.string().refine(isIsoDate, 'expected a calendar date as YYYY-MM-DD');
const sourceNames = BRONZE_SOURCES.map((s) => s.name) as [string, ...string[]];
/** Backfills pull synchronously (an HTTP call must answer within minutes): bounded per request. */
export const MAX_BACKFILL_DAYS = 31;
/** Re-running transforms rebuilds whole date ranges: bounded so a typo cannot rebuild decades. */
export const MAX_RERUN_DAYS = 3_660;

/** A model-graph selector that selects something; otherwise the message names what exists. */
const selector = z
  .string()
  .min(1)
  .max(400)
  .superRefine((value, ctx) => {
    try {
      MODEL_GRAPH.select(value);
    } catch (err) {
      if (!(err instanceof SelectionError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });

/** A bronze blob, given as `bronze/<source>/…jsonl` or without the container: a path inside the container. */
const bronzeFile = z
  .string()
  .min(1)
  .max(1024)
  .transform((f) => f.replace(/^\/+/, '').replace(/^bronze\//, ''))
  .refine((f) => !f.split('/').some((part) => part === '..' || part === '.' || part === ''), 'must be a path inside the bronze container, without "." or ".." parts')
  .refine((f) => f.endsWith('.jsonl'), 'must name a bronze .jsonl file')
  .refine((f) => sourceNames.includes(f.split('/')[0]!), `must start with a source folder: ${sourceNames.join(', ')}`);

/** from <= to, and at most `maxDays` days. */
const checkRange =
  (maxDays: number) =>
  (r: { from: string; to: string }, ctx: z.RefinementCtx): void => {
    if (r.from > r.to) ctx.addIssue({ code: 'custom', message: '`from` must not be after `to`', path: ['from'] });
    else if (daysBetween(r.from, r.to) >= maxDays) ctx.addIssue({ code: 'custom', message: `at most ${maxDays} days per request`, path: ['to'] });
  };

export const operationInputs = {
  runs: z
    .object({
      limit: z.coerce.number().int().min(1).max(200).default(20),
      kind: z.enum(['upload_ingest', 'usage_ingest', 'transform', 'freshness_check', 'operation']).optional(),
      status: z.enum(['running', 'succeeded', 'failed', 'skipped']).optional(),
      runId: z.string().uuid().optional(),
    })
    .strict(),
  backfill: z
    .object({ from: isoDate, to: isoDate, reason: z.string().max(200).optional() })
    .strict()
    .superRefine(checkRange(MAX_BACKFILL_DAYS)),
  replay: z.object({ file: bronzeFile, reason: z.string().max(200).optional() }).strict(),
  quarantine: z.object({ file: bronzeFile, reason: z.string().min(1, 'say why the file is isolated').max(200) }).strict(),
  rerun: z
    .object({
      from: isoDate,
      to: isoDate,
      source: z.enum(sourceNames).optional(),
      // a graph selector (`company_activity`, `+gold.x`, `silver.y+`): rebuild just those models
      select: selector.optional(),
      reason: z.string().max(200).optional(),
    })
    .strict()
    .superRefine(checkRange(MAX_RERUN_DAYS))
    .superRefine((r, ctx) => {
      if (r.source && r.select) ctx.addIssue({ code: 'custom', message: 'give `source` or `select`, not both', path: ['select'] });
    }),
  lineage: z.object({ select: selector.optional() }).strict(),
  freshness: z.object({}).strict(),
  trace: z.object({ company: z.string().min(1).max(100), date: isoDate }).strict(),
};

export type OperationName = keyof typeof operationInputs;
export const OPERATION_NAMES = Object.keys(operationInputs) as OperationName[];

/** `field: problem; field: problem` — what the caller has to fix. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(request)';
      if (i.code === 'unrecognized_keys') return `${where}: unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Validates `input` for the named operation and runs it. Never throws: failures are a 500 with the reason. */
export async function runOperation(ctx: PipelineContext, name: OperationName, input: unknown): Promise<OperationResult> {
  const parsed = operationInputs[name].safeParse(input ?? {});
  if (!parsed.success) return badRequest(`${name}: ${describeIssues(parsed.error)}`);
  try {
    switch (name) {
      case 'runs':
        return await listRuns(ctx, parsed.data as z.infer<(typeof operationInputs)['runs']>);
      case 'backfill':
        return await backfill(ctx, parsed.data as z.infer<(typeof operationInputs)['backfill']>);
      case 'replay':
        return await replay(ctx, parsed.data as z.infer<(typeof operationInputs)['replay']>);
      case 'quarantine':
        return await quarantineBronzeFile(ctx, parsed.data as z.infer<(typeof operationInputs)['quarantine']>);
      case 'rerun':
        return await rerun(ctx, parsed.data as z.infer<(typeof operationInputs)['rerun']>);
      case 'freshness':
        return { status: 200, body: { checkedAt: ctx.now().toISOString(), sources: await sourceFreshness(ctx) } };
      case 'trace':
        return await trace(ctx, parsed.data as z.infer<(typeof operationInputs)['trace']>);
      case 'lineage':
        return lineageOperation(parsed.data);
    }
  } catch (err) {
    ctx.log.error(`operation ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return { status: 500, body: { error: `${name} failed: ${err instanceof Error ? err.message : String(err)}` } };
  }
}

/** The lineage graph: needs neither storage nor the warehouse (the CLI runs it without starting either). */
export function lineageOperation(input: unknown): OperationResult {
  const parsed = operationInputs.lineage.safeParse(input ?? {});
  if (!parsed.success) return badRequest(`lineage: ${describeIssues(parsed.error)}`);
  return { status: 200, body: lineage(MODEL_GRAPH, parsed.data.select) };
}

function badRequest(error: string): OperationResult {
  return { status: 400, body: { error } };
}

// ---- runs ---------------------------------------------------------------------------------------

interface RunRow {
  run_id: string;
  kind: string;
  trigger_name: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  rows_in: number | null;
  rows_out: number | null;
  rows_rejected: number | null;
  error: string | null;
}

async function listRuns(ctx: PipelineContext, q: z.infer<(typeof operationInputs)['runs']>): Promise<OperationResult> {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: q.limit };
  const filters = { kind: q.kind, status: q.status, run_id: q.runId };
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    where.push(`${column} = @${column}`); // column names from the literal above, never from input
    params[column] = value;
  }
  // ROW_NUMBER is the portable "first n" (T-SQL has TOP, DuckDB LIMIT)
  const runs = await ctx.warehouse.query<RunRow & { rn: number }>(
    `SELECT * FROM (
       SELECT run_id, kind, trigger_name, status, started_at, finished_at, duration_ms, rows_in, rows_out, rows_rejected, error,
              ROW_NUMBER() OVER (ORDER BY started_at DESC, run_id) AS rn
       FROM ops.pipeline_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}) r
     WHERE rn <= @limit`,
    params,
  );
  runs.sort((a, b) => a.rn - b.rn);
  const ids = runs.map((r) => r.run_id);
  const inList = ids.map((_id, i) => `@r${i}`).join(', ');
  const idParams = Object.fromEntries(ids.map((id, i) => [`r${i}`, id]));
  const steps = ids.length
    ? await ctx.warehouse.query<{ run_id: string; step_seq: number; step_name: string; status: string; duration_ms: number | null; rows_in: number | null; rows_out: number | null; rows_rejected: number | null; error: string | null }>(
        `SELECT run_id, step_seq, step_name, status, duration_ms, rows_in, rows_out, rows_rejected, error FROM ops.run_steps WHERE run_id IN (${inList}) ORDER BY run_id, step_seq`,
        idParams,
      )
    : [];
  const problems = ids.length
    ? await ctx.warehouse.query<{ run_id: string; test_id: string; status: string; failing_rows: number | null; message: string | null }>(
        `SELECT run_id, test_id, status, failing_rows, message FROM ops.data_test_results WHERE run_id IN (${inList}) AND status <> 'pass' ORDER BY run_id, test_id`,
        idParams,
      )
    : [];
  return {
    status: 200,
    body: {
      runs: runs.map(({ rn: _rn, ...r }) => ({
        runId: r.run_id,
        kind: r.kind,
        trigger: r.trigger_name,
        status: r.status,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        durationMs: r.duration_ms,
        rowsIn: r.rows_in,
        rowsOut: r.rows_out,
        rowsRejected: r.rows_rejected,
        error: r.error,
        steps: steps
          .filter((s) => s.run_id === r.run_id)
          .map((s) => ({ seq: s.step_seq, name: s.step_name, status: s.status, durationMs: s.duration_ms, rowsIn: s.rows_in, rowsOut: s.rows_out, rowsRejected: s.rows_rejected, error: s.error })),
        dataTestProblems: problems.filter((p) => p.run_id === r.run_id).map((p) => ({ testId: p.test_id, status: p.status, failingRows: p.failing_rows, message: p.message })),
      })),
    },
  };
}

// ---- backfill -------------------------------------------------------------------------------------

async function backfill(ctx: PipelineContext, q: z.infer<(typeof operationInputs)['backfill']>): Promise<OperationResult> {
  const yesterday = addDays(toIsoDate(ctx.now()), -1);
  if (q.to > yesterday) return badRequest(`backfill: to: must be a complete day, at most yesterday (${yesterday}); got ${q.to}`);
  const dates: IsoDate[] = [];
  for (let d = q.from; d <= q.to; d = addDays(d, 1)) dates.push(d);
  try {
    const result = await runUsageIngest(ctx, { dates, triggerName: `ops:backfill${q.reason ? ` (${q.reason})` : ''}` });
    return { status: 200, body: { source: USAGE_SOURCE, runId: result.runId, dates: result.written, records: result.accepted, rejected: result.rejected, transform: 'requested' } };
  } catch (err) {
    // The ingest recorded its failed run; the dates written before the failure stay written.
    return { status: 502, body: { error: `backfill: the usage API pull failed: ${err instanceof Error ? err.message : String(err)}` } };
  }
}

// ---- replay ---------------------------------------------------------------------------------------

/**
 * Loads a bronze file again: its rows in the warehouse are replaced by the blob's current content
 * and the dates it touches are rebuilt. Idempotent: replaying twice gives the same tables.
 */
async function replay(ctx: PipelineContext, q: z.infer<(typeof operationInputs)['replay']>): Promise<OperationResult> {
  const blob = container(ctx.storage, 'bronze').getBlobClient(q.file);
  if (!(await blob.exists())) return { status: 404, body: { error: `replay: file: no blob bronze/${q.file}` } };
  const source = q.file.split('/')[0]!;
  const run = await Run.start(ctx, 'operation', `ops:replay bronze/${q.file}`);
  try {
    // A loaded file is reloaded when its etag differs from the one recorded: forget the etag.
    const marked = await ctx.warehouse.exec(`UPDATE ops.loaded_files SET etag = @marker WHERE bronze_file = @file`, { marker: `replay:${run.runId}`, file: `bronze/${q.file}` });
    const [range] = await ctx.warehouse.query<{ min_date: string | null; max_date: string | null }>(`SELECT min_date, max_date FROM ops.loaded_files WHERE bronze_file = @file`, { file: `bronze/${q.file}` });
    const today = toIsoDate(ctx.now());
    await requestTransform(ctx.storage, source, { from: range?.min_date ?? today, to: range?.max_date ?? today }, `replay of bronze/${q.file}`);
    const detail = { file: `bronze/${q.file}`, source, wasLoaded: marked > 0, reason: q.reason ?? null };
    await run.finish('succeeded', { detail });
    return { status: 202, body: { runId: run.runId, ...detail, transform: 'requested' } };
  } catch (err) {
    await run.finish('failed', {}, err).catch(() => undefined);
    throw err;
  }
}

// ---- quarantine -----------------------------------------------------------------------------------

/**
 * Isolates a bronze file that holds data the models cannot take: its blob moves to
 * `quarantine/<its bronze path>.isolated/` beside a `reason.json`, its rows leave the warehouse's
 * bronze table, and the dates it fed are rebuilt without it, so the models downstream carry on.
 * To put it back: copy the blob back to its bronze path and `replay` it.
 */
async function quarantineBronzeFile(ctx: PipelineContext, q: z.infer<(typeof operationInputs)['quarantine']>): Promise<OperationResult> {
  if (!(await container(ctx.storage, 'bronze').getBlobClient(q.file).exists())) return { status: 404, body: { error: `quarantine: file: no blob bronze/${q.file}` } };
  const sourceName = q.file.split('/')[0]!;
  const source = BRONZE_SOURCES.find((s) => s.name === sourceName)!;
  const table = `${source.table.schema}.${source.table.name}`; // from the catalogue, never from input
  const run = await Run.start(ctx, 'operation', `ops:quarantine bronze/${q.file}`);
  try {
    const quarantinedAs = await copyToQuarantine(ctx, q.file, { source: sourceName, reason: q.reason, run_id: run.runId });
    const file = `bronze/${q.file}`;
    const removed = await ctx.warehouse.transaction(async (tx) => {
      const [range] = await tx.query<{ min_date: string | null; max_date: string | null; n: number }>(
        `SELECT MIN(TRY_CAST(${source.dateColumn} AS DATE)) AS min_date, MAX(TRY_CAST(${source.dateColumn} AS DATE)) AS max_date, COUNT(*) AS n FROM ${table} WHERE _bronze_file = @file`,
        { file },
      );
      await tx.exec(`DELETE FROM ${table} WHERE _bronze_file = @file`, { file });
      await tx.exec(`DELETE FROM ops.loaded_files WHERE bronze_file = @file`, { file });
      if (range?.min_date && range.max_date) {
        await recordRequest(tx, { source: sourceName, from: range.min_date, to: range.max_date, reason: `quarantine of ${file}: ${q.reason}` }, ctx.now());
      }
      return { rows: range?.n ?? 0, from: range?.min_date ?? null, to: range?.max_date ?? null };
    });
    // last: while the blob exists a crash before this point can be re-run; once gone it is not loaded again
    await removeFromBronze(ctx, q.file);
    await requestTransform(ctx.storage, sourceName, { from: removed.from ?? toIsoDate(ctx.now()), to: removed.to ?? toIsoDate(ctx.now()) }, `quarantine of ${file}`);
    const detail = { file, source: sourceName, rowsRemoved: removed.rows, dates: removed.from ? { from: removed.from, to: removed.to } : null, quarantinedAs, reason: q.reason };
    await run.finish('succeeded', { rowsOut: removed.rows, detail });
    return { status: 202, body: { runId: run.runId, ...detail, transform: 'requested' } };
  } catch (err) {
    await run.finish('failed', {}, err).catch(() => undefined);
    throw err;
  }
}

// ---- rerun ----------------------------------------------------------------------------------------

/**
 * Rebuilds models over a date range without new data: the selected models (`select`), or every
 * model downstream of one source (`source`) or of all of them.
 */
async function rerun(ctx: PipelineContext, q: z.infer<(typeof operationInputs)['rerun']>): Promise<OperationResult> {
  const sources = q.select ? [] : q.source ? [q.source] : sourceNames;
  const models = q.select ? MODEL_GRAPH.select(q.select).map((m) => m.name) : undefined;
  const reason = `ops:rerun${q.reason ? ` (${q.reason})` : ''}`;
  const run = await Run.start(ctx, 'operation', `${reason} ${q.select ? `--select ${q.select} ` : ''}${q.from}..${q.to}`);
  const range = { from: q.from, to: q.to };
  try {
    if (q.select) await requestTransform(ctx.storage, 'select', range, reason, 'rebuild', q.select);
    for (const source of sources) await requestTransform(ctx.storage, source, range, reason, 'rebuild');
    await run.finish('succeeded', { detail: { sources, select: q.select ?? null, models: models ?? null, ...range } });
  } catch (err) {
    await run.finish('failed', {}, err).catch(() => undefined);
    throw err;
  }
  return { status: 202, body: { runId: run.runId, ...(q.select ? { select: q.select, models } : { sources }), ...range, transform: 'requested' } };
}

// ---- trace ----------------------------------------------------------------------------------------

/**
 * A gold row and the inputs it came from: the CRM line that set its attributes (landing file and
 * line, and the bronze blob that carried it) and the usage rows of its windows (bronze blob and
 * line of each).
 */
async function trace(ctx: PipelineContext, q: z.infer<(typeof operationInputs)['trace']>): Promise<OperationResult> {
  const wh = ctx.warehouse;
  const key = { company: q.company, date: q.date };
  const [gold] = await wh.query(`SELECT * FROM gold.fact_company_activity_daily WHERE company_id = @company AND activity_date = CAST(@date AS DATE)`, key);
  if (!gold) return { status: 404, body: { error: `trace: no gold row for company "${q.company}" on ${q.date}` } };

  const [crm] = await wh.query<{ valid_from: string; valid_to: string; _source_file: string; _row_number: number }>(
    `SELECT valid_from, valid_to, _source_file, _row_number FROM silver.dim_company
     WHERE company_id = @company AND valid_from <= CAST(@date AS DATE) AND valid_to > CAST(@date AS DATE)`,
    key,
  );
  const crmBronze = crm
    ? await wh.query<{ _bronze_file: string; _ingested_at: Date }>(
        `SELECT DISTINCT _bronze_file, _ingested_at FROM bronze.crm_company_daily
         WHERE _source_file = @file AND _row_number = @line AND company_id = @company AND CAST(snapshot_date AS DATE) = CAST(@valid_from AS DATE)`,
        { file: crm._source_file, line: crm._row_number, company: q.company, valid_from: crm.valid_from },
      )
    : [];
  const windowDays = lookbackDays(ctx.settings);
  const usage = await wh.query<{ activity_date: string; active_users: number; events: number; _source_file: string; _row_number: number; _ingested_at: Date }>(
    `SELECT activity_date, active_users, events, _source_file, _row_number, _ingested_at FROM silver.fact_company_usage_daily
     WHERE company_id = @company AND activity_date BETWEEN CAST(@from AS DATE) AND CAST(@date AS DATE) ORDER BY activity_date`,
    { ...key, from: addDays(q.date, -windowDays) },
  );
  const sevenDaysFrom = addDays(q.date, -6);
  return {
    status: 200,
    body: {
      gold,
      crm: crm
        ? { validFrom: crm.valid_from, validTo: crm.valid_to, landingFile: crm._source_file, line: crm._row_number, bronzeFiles: crmBronze.map((b) => b._bronze_file) }
        : null,
      usage: usage.map((u) => ({
        activityDate: u.activity_date,
        activeUsers: u.active_users,
        events: u.events,
        bronzeFile: u._source_file,
        line: u._row_number,
        ingestedAt: u._ingested_at,
        feeds: u.activity_date === q.date ? 'the day, its 7-day sums and churn window' : u.activity_date >= sevenDaysFrom ? '7-day sums and churn window' : 'churn window',
      })),
    },
  };
}
