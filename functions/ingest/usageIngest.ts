/**
 * The daily product-usage pull: from the day after the watermark up to yesterday (bounded per
 * run), each activity date fetched from the usage API and written to bronze as one JSON-lines
 * blob, rejected records to quarantine, then the watermark advanced over the dates safely written
 * and one transform request sent for the range.
 *
 * Re-running is harmless: a date's blob is replaced as a whole (atomic block-blob commit) and the
 * transform is idempotent per date range.
 *
 * Schema drift in a date's records (fields the contract does not know, which are dropped; a
 * declared field mostly sent with another type) is recorded in `ops.schema_drift` per pulled date
 * (`source_file` = the request, as in quarantine; a re-pull replaces it), reported, and never fatal.
 */
import { Readable } from 'node:stream';
import type { PipelineContext } from '../core/context.js';
import { addDays, daysBetween, isIsoDate, toIsoDate, type IsoDate } from '../core/dates.js';
import { METRICS } from '../core/telemetry.js';
import { errorText, Run } from '../ops/runs.js';
import { replaceSchemaDrift, reportSchemaDrift } from '../ops/schemaDrift.js';
import { capDrift, jsonText, type DriftFinding } from '../sources/contract.js';
import { advanceWatermark, readWatermark } from '../ops/watermarks.js';
import { fetchUsageDate, usageClientOptionsFromSettings, type UsageClientOptions, type UsageDatePull, type UsageReject } from '../domains/company_activity/sources/productUsage/apiClient.js';
import { USAGE_SOURCE, type UsageRecord } from '../domains/company_activity/sources/productUsage/contract.js';
import { bronzeLineage, CONTAINERS, container, uploadStreamAtomically } from '../storage/blobStore.js';
import { requestTransform } from '../transform/requests.js';

export interface UsageIngestOptions {
  /** Pull exactly these dates (backfill) instead of watermark + 1 … yesterday. */
  dates?: string[];
  /** Recorded in ops.pipeline_runs.trigger_name. */
  triggerName?: string;
  /** Overrides of the API client options built from settings (tests, benchmark). */
  client?: Partial<UsageClientOptions>;
}

export interface UsageIngestResult {
  runId: string;
  /** Dates written to bronze in this run, ascending. */
  written: IsoDate[];
  failed: { date: IsoDate; error: string }[];
  watermark: IsoDate | undefined;
  /** Dates still behind yesterday after this run (catch-up bound). */
  remaining: number;
  received: number;
  accepted: number;
  rejected: number;
  /** Schema drift per pulled date that had any. */
  drift: DateDrift[];
}

export interface DateDrift {
  date: IsoDate;
  /** The date's bronze blob (`bronze/product_usage/activity_date=D/usage.jsonl`): the `source_file` of its drift rows. */
  file: string;
  findings: DriftFinding[];
}

/** `product_usage/activity_date=D/usage.jsonl` in the bronze container. */
export function usageBronzePath(date: IsoDate): string {
  return `${USAGE_SOURCE}/activity_date=${date}/usage.jsonl`;
}

/** `product_usage/activity_date=D/usage.rejected.jsonl` in the quarantine container. */
export function usageQuarantinePath(date: IsoDate): string {
  return `${USAGE_SOURCE}/activity_date=${date}/usage.rejected.jsonl`;
}

const CHUNK_BYTES = 1 << 20;
/** Company ids that JSON needs no escaping for (printable ASCII except `"` and `\\`): the common case. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * The bronze JSON lines of one date, as ~1 MB buffers: the record and its line number. The
 * lineage that is the same for every line (`_source_file`, `_ingested_at`) is blob metadata,
 * stamped on each row by the loader; repeating it on every line doubled the bytes (measured
 * 220 → ~100 bytes per record) that Azurite, the download and the JSON reader must move. Each line is concatenated from constant
 * pieces and written straight into the chunk buffer: appending lines to one big string and
 * converting it at the end was measured ~40% slower (flattening a rope of tens of thousands of
 * pieces). Only `company_id` may need JSON escaping.
 */
export function usageJsonLines(records: readonly UsageRecord[], date: IsoDate): Buffer[] {
  const afterId = `,"activity_date":${JSON.stringify(date)},"active_users":`;
  const afterEvents = `,"_row_number":`;
  const tail = `}\n`;
  const chunks: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const id = r.company_id;
    const ascii = PLAIN_ASCII.test(id);
    const line = '{"company_id":' + (ascii ? '"' + id + '"' : JSON.stringify(id)) + afterId + r.active_users + ',"events":' + r.events + afterEvents + (i + 1) + tail;
    const worstBytes = ascii ? line.length : line.length * 3;
    if (used + worstBytes > chunk.length) {
      chunks.push(chunk.subarray(0, used));
      chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, worstBytes));
      used = 0;
    }
    used += chunk.write(line, used, ascii ? 'latin1' : 'utf8');
  }
  if (used > 0) chunks.push(chunk.subarray(0, used));
  return chunks;
}

/** The most of one rejected record a quarantine line keeps (as JSON text). */
const QUARANTINED_RECORD_CHARS = 65_536;

/**
 * Quarantine lines of one date: `{ source, file, line, field, reason, record }`. A record whose JSON
 * is longer than 64 K characters, or nested too deep to serialise, is kept as `{ "_truncated": text }`.
 */
export function usageRejectLines(rejects: readonly UsageReject[], request: string): string {
  let text = '';
  for (const r of rejects) {
    const json = jsonText(r.record, QUARANTINED_RECORD_CHARS);
    const fits = json.length < QUARANTINED_RECORD_CHARS && !json.startsWith('(not serialisable');
    const record = fits ? json : JSON.stringify({ _truncated: json });
    text += `{"source":${JSON.stringify(USAGE_SOURCE)},"file":${JSON.stringify(request)},"line":${r.line},"field":${JSON.stringify(r.field)},"reason":${JSON.stringify(r.reason)},"record":${record}}\n`;
  }
  return text;
}

/** Writes one pulled date: quarantine first (or removes a stale one), then the bronze blob. */
async function writeDate(ctx: PipelineContext, pull: UsageDatePull): Promise<void> {
  const { date } = pull;
  const quarantine = container(ctx.storage, 'quarantine');
  if (pull.rejects.length > 0) {
    await uploadStreamAtomically(quarantine, usageQuarantinePath(date), Readable.from([Buffer.from(usageRejectLines(pull.rejects, pull.request), 'utf8')]), {
      contentType: 'application/x-ndjson',
      metadata: { source: USAGE_SOURCE, activity_date: date, row_count: String(pull.rejects.length) },
    });
  } else {
    await quarantine.getBlobClient(usageQuarantinePath(date)).deleteIfExists();
  }
  const blobPath = usageBronzePath(date);
  const chunks = usageJsonLines(pull.records, date);
  await uploadStreamAtomically(container(ctx.storage, 'bronze'), blobPath, Readable.from(chunks), {
    contentType: 'application/x-ndjson',
    metadata: bronzeLineage({ source: USAGE_SOURCE, sourceFile: `${CONTAINERS.bronze}/${blobPath}`, ingestedAt: ctx.now(), rows: pull.records.length, minDate: date, maxDate: date }),
  });
}

interface Plan {
  dates: IsoDate[];
  remaining: number;
}

/** Which dates this run pulls. */
function planDates(ctx: PipelineContext, options: UsageIngestOptions, watermark: IsoDate | undefined): Plan {
  const yesterday = addDays(toIsoDate(ctx.now()), -1);
  if (options.dates) {
    const bad = options.dates.filter((d) => !isIsoDate(d) || d > yesterday);
    if (bad.length > 0) throw new Error(`usage ingest: dates must be calendar dates (YYYY-MM-DD) up to yesterday (${yesterday}); got ${bad.join(', ')}`);
    return { dates: [...new Set(options.dates)].sort(), remaining: 0 };
  }
  const first = watermark ? addDays(watermark, 1) : (ctx.settings.USAGE_START_DATE ?? yesterday);
  if (first > yesterday) return { dates: [], remaining: 0 };
  const behind = daysBetween(first, yesterday) + 1;
  const count = Math.min(behind, ctx.settings.USAGE_MAX_DATES_PER_RUN);
  const dates: IsoDate[] = [];
  for (let i = 0; i < count; i++) dates.push(addDays(first, i));
  return { dates, remaining: behind - count };
}

/**
 * The last date of the unbroken run of written dates that continues the watermark (or, without
 * one, starts at the first date pulled). Dates written after a gap wait for the gap to be filled.
 */
function contiguousEnd(watermark: IsoDate | undefined, pulled: IsoDate[], written: Set<IsoDate>): IsoDate | undefined {
  let next = watermark ? addDays(watermark, 1) : pulled[0];
  let end: IsoDate | undefined;
  while (next !== undefined && written.has(next)) {
    end = next;
    next = addDays(next, 1);
  }
  return end;
}

/** Pulls product usage into bronze. Throws (after recording the run as failed) when any date failed. */
export async function runUsageIngest(ctx: PipelineContext, options: UsageIngestOptions = {}): Promise<UsageIngestResult> {
  const run = await Run.start(ctx, 'usage_ingest', options.triggerName ?? 'usage_ingest');
  const log = run.log;
  let received = 0;
  let accepted = 0;
  let rejected = 0;
  let pages = 0;
  let attempts = 0;
  const written = new Set<IsoDate>();
  const failed: { date: IsoDate; error: string }[] = [];
  const drift: DateDrift[] = [];
  const totals = () => ({ rowsIn: received, rowsOut: accepted, rowsRejected: rejected });

  let watermark: IsoDate | undefined;
  let plan: Plan;
  let client: UsageClientOptions;
  try {
    watermark = await readWatermark(ctx.warehouse, USAGE_SOURCE);
    plan = planDates(ctx, options, watermark);
    client = usageClientOptionsFromSettings(ctx.settings, { log, ...options.client });
  } catch (err) {
    await run.finish('failed', {}, err);
    throw err;
  }

  if (plan.dates.length === 0) {
    await run.finish('skipped', { rowsIn: 0, rowsOut: 0, rowsRejected: 0, detail: { reason: 'up to date', watermark } });
    return { runId: run.runId, written: [], failed: [], watermark, remaining: 0, received: 0, accepted: 0, rejected: 0, drift: [] };
  }
  log.info('usage ingest planned', { from: plan.dates[0], to: plan.dates[plan.dates.length - 1], dates: plan.dates.length, remaining: plan.remaining, watermark });
  if (plan.remaining > 0) log.warn(`usage ingest is catching up: ${plan.remaining} date(s) remain after this run`, { remaining: plan.remaining });

  // A worker pool over the dates in order. After the first failure no new date is started: the
  // watermark cannot pass the failed date, so later ones would only be pulled again next run.
  let nextIndex = 0;
  const worker = async () => {
    while (failed.length === 0 && nextIndex < plan.dates.length) {
      const date = plan.dates[nextIndex++]!;
      try {
        await run.step(`pull ${date}`, async () => {
          const fetched = await fetchUsageDate(date, client);
          const pull = { ...fetched, drift: capDrift(fetched.drift, ctx.settings.INGEST_MAX_DRIFT_FINDINGS) };
          await writeDate(ctx, pull);
          // After the blob: the findings describe what is in bronze now (a clean re-pull clears them).
          // Keyed by the date's bronze blob (the `_source_file` of its rows), which a re-pull replaces
          // whatever its page size: the request text would make every page size a new "file".
          const found = { runId: run.runId, source: USAGE_SOURCE, file: `${CONTAINERS.bronze}/${usageBronzePath(date)}`, findings: pull.drift, detectedAt: ctx.now() };
          await replaceSchemaDrift(ctx.warehouse, found);
          ctx.telemetry.metric(METRICS.rowsLanded, pull.records.length, { source: USAGE_SOURCE });
          ctx.telemetry.metric(METRICS.rowsQuarantined, pull.rejects.length, { source: USAGE_SOURCE });
          reportSchemaDrift({ log, telemetry: ctx.telemetry }, found);
          if (pull.drift.length) drift.push({ date, file: found.file, findings: pull.drift });
          received += pull.records.length + pull.rejects.length;
          accepted += pull.records.length;
          rejected += pull.rejects.length;
          pages += pull.pages;
          attempts += pull.attempts;
          written.add(date);
          return {
            rowsIn: pull.records.length + pull.rejects.length,
            rowsOut: pull.records.length,
            rowsRejected: pull.rejects.length,
            detail: {
              date, rejects: pull.rejects.length, pages: pull.pages, attempts: pull.attempts, restarts: pull.restarts,
              ...(pull.drift.length ? { drift: pull.drift.map((f) => `${f.kind}:${f.column}`) } : {}),
            },
          };
        });
      } catch (err) {
        failed.push({ date, error: errorText(err) });
        log.error(`usage ingest: ${date} failed`, { date, error: errorText(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.settings.USAGE_FETCH_CONCURRENCY, plan.dates.length) }, worker));

  const writtenDates = [...written].sort();
  drift.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const detail = () => ({ dates: plan.dates.length, written: writtenDates.length, failed, remaining: plan.remaining, pages, attempts, watermark, ...(drift.length ? { drift } : {}) });
  try {
    const end = contiguousEnd(watermark, plan.dates, written);
    if (end !== undefined && (watermark === undefined || end > watermark)) {
      await advanceWatermark(ctx.warehouse, USAGE_SOURCE, end, run.runId);
      watermark = end;
    }
    if (writtenDates.length > 0) {
      const range = { from: writtenDates[0]!, to: writtenDates[writtenDates.length - 1]! };
      await requestTransform(ctx.storage, USAGE_SOURCE, range, 'usage_ingest');
      log.info('transform requested', range);
    }
  } catch (err) {
    await run.finish('failed', { ...totals(), detail: detail() }, err);
    throw err;
  }

  if (failed.length > 0) {
    const error = new Error(
      `usage ingest failed for ${failed.length} of ${plan.dates.length} date(s); watermark at ${watermark ?? 'none'}. ` + failed.map((f) => `${f.date}: ${f.error}`).join(' | '),
    );
    await run.finish('failed', { ...totals(), detail: detail() }, error);
    throw error;
  }
  await run.finish('succeeded', { ...totals(), detail: detail() });
  return { runId: run.runId, written: writtenDates, failed, watermark, remaining: plan.remaining, received, accepted, rejected, drift };
}
