/**
 * Upload ingest: one landed CSV file → accepted rows to bronze (JSON lines with lineage) and
 * rejected rows to quarantine (with file, line, field and reason). Streams end to end, so memory
 * does not grow with the file. A file is identified by its content hash: a re-delivered event
 * or a re-upload of the same bytes changes nothing.
 *
 * Schema drift (a new column, a missing optional column, a changed type; see the source's
 * contract) is recorded in `ops.schema_drift` with the file's `ops.file_ingests` row, reported,
 * and returned with the outcome; it never fails the file. A missing required column does.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import type { ContainerClient } from '@azure/storage-blob';
import { progressReporter, type PipelineContext } from '../core/context.js';
import { toIsoDate, type IsoDate } from '../core/dates.js';
import { sha256Hex } from '../core/hash.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import { Run } from '../ops/runs.js';
import { insertSchemaDrift, reportSchemaDrift } from '../ops/schemaDrift.js';
import { capDrift, clipText, dateWindow, type DriftFinding } from '../sources/contract.js';
import { uploadSourceFor } from '../domains/registry.js';
import { headerKey } from '../sources/csvContract.js';
import type { CsvFile, UploadSource } from '../sources/uploadSource.js';
import { bronzeLineage, container, MAX_SOURCE_FILE_CHARS, uploadStreamAtomically, writeJsonBlob } from '../storage/blobStore.js';
import { requestTransform } from '../transform/requests.js';
import { csvRecordBatches, type CsvItem } from './csvRecords.js';

export type UploadOutcome =
  | { status: 'loaded'; rowsTotal: number; rowsAccepted: number; rowsQuarantined: number; bronzeFile: string; quarantineFile: string | null; sha256: string; drift: DriftFinding[] }
  | { status: 'rejected'; reason: string; rowsTotal: number; quarantineFile: string; sha256: string; drift: DriftFinding[] }
  | { status: 'duplicate'; sha256: string; firstSeenAs: string }
  | { status: 'already_ingested'; sha256: string }
  | { status: 'gone' };

/** The unit of quarantine: one bad row, or one whole file. */
export interface QuarantineRecord {
  source: string;
  file: string;
  line: number;
  field: string;
  reason: string;
  raw: string;
}

/**
 * A JSON-lines blob written as a stream; the upload starts with the first line (none: no blob).
 * Lines are written straight into 1 MB buffers handed to the stream when full, so the per-row
 * cost is one string-to-bytes copy, not a stream write, an await, or a join of thousands of lines.
 */
class JsonLinesBlobWriter {
  private stream?: PassThrough;
  private upload?: Promise<unknown>;
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  count = 0;

  /** `blobPath` may wait (for the content hash that names it): lines wait for it in memory meanwhile, one buffer at most. */
  constructor(private readonly target: ContainerClient, private readonly blobPath: Promise<string>, private readonly metadata: () => Record<string, string>) {
    blobPath.catch(() => undefined); // the caller handles its failure
  }

  /**
   * Adds one line (JSON text without the newline); `ascii` when the caller knows it is ASCII (a
   * plain byte copy). Await the result only when it is a promise.
   */
  addLine(json: string, ascii = false): Promise<void> | undefined {
    this.count++;
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (this.used + json.length * 3 + 1 > this.chunk.length) {
      const full = this.take();
      if (json.length * 3 + 1 > this.chunk.length) this.chunk = Buffer.allocUnsafe(json.length * 3 + 1);
      this.used = this.chunk.write(json, 0, ascii ? 'latin1' : 'utf8');
      this.chunk[this.used++] = 0x0a;
      return this.send(full);
    }
    this.used += this.chunk.write(json, this.used, ascii ? 'latin1' : 'utf8');
    this.chunk[this.used++] = 0x0a;
    return undefined;
  }

  write(value: unknown): Promise<void> | undefined {
    return this.addLine(JSON.stringify(value));
  }

  /** The bytes written so far; a new buffer takes their place (the stream keeps the old one). */
  private take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    return full;
  }

  private async send(bytes: Buffer | undefined): Promise<void> {
    if (!bytes) return;
    if (!this.stream) {
      const blobPath = await this.blobPath;
      const stream = new PassThrough();
      this.stream = stream;
      this.upload = uploadStreamAtomically(this.target, blobPath, stream, { contentType: 'application/x-ndjson', metadata: this.metadata });
      // Errors surface in close(); keep an early failure from being reported as unhandled.
      this.upload.catch(() => undefined);
    }
    if (!this.stream.write(bytes)) await once(this.stream, 'drain');
  }

  /** Commits the blob with its metadata: readers see all of it or none. */
  async close(): Promise<boolean> {
    await this.send(this.take());
    if (!this.stream) return false;
    this.stream.end();
    await this.upload;
    return true;
  }

  abort(err: Error): void {
    this.stream?.destroy(err);
    this.upload?.catch(() => undefined);
  }
}

const CHUNK_BYTES = 1 << 20;
// eslint-disable-next-line no-control-regex -- ASCII includes the control characters
const ASCII = /^[\x00-\x7f]*$/;
/** Text that JSON needs no escaping for (printable ASCII except `"` and `\\`): most values. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;


async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function runUploadIngest(ctx: PipelineContext, landingPath: string, triggerName = 'upload_ingest'): Promise<UploadOutcome> {
  // Run.start fits the name to ops.pipeline_runs.trigger_name (a trigger and the longest landing path)
  const run = await Run.start(ctx, 'upload_ingest', `${triggerName}:${landingPath}`);
  try {
    // from here on every log line carries the run id
    const outcome = await ingest({ ...ctx, log: run.log }, run, landingPath);
    const totals =
      outcome.status === 'loaded'
        ? { rowsIn: outcome.rowsTotal, rowsOut: outcome.rowsAccepted, rowsRejected: outcome.rowsQuarantined, detail: outcome }
        : outcome.status === 'rejected'
          ? { rowsIn: outcome.rowsTotal, rowsOut: 0, rowsRejected: outcome.rowsTotal, detail: outcome }
          : { detail: outcome };
    await run.finish(outcome.status === 'loaded' || outcome.status === 'rejected' ? 'succeeded' : 'skipped', totals);
    return outcome;
  } catch (err) {
    await run.finish('failed', {}, err).catch(() => undefined);
    throw err;
  }
}

async function ingest(ctx: PipelineContext, run: Run, landingPath: string): Promise<UploadOutcome> {
  const landing = container(ctx.storage, 'landing');
  const blob = landing.getBlobClient(landingPath);
  const props = await blob.getProperties().catch((err: unknown) => {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  });
  if (!props) {
    // Deleted (or renamed) before its event was handled: nothing to ingest, nothing to retry.
    ctx.log.warn('landing file no longer exists; event ignored', { landingFile: `landing/${landingPath}` });
    return { status: 'gone' };
  }
  const etag = props.etag!;
  const arrivalDate = toIsoDate(props.createdOn ?? props.lastModified ?? ctx.now());
  const fullLandingFile = `landing/${landingPath}`;
  // a path too long for the warehouse is recorded by a shortened name (and refused, below)
  const tooLong = fullLandingFile.length > MAX_SOURCE_FILE_CHARS;
  const landingFile = tooLong ? clipText(fullLandingFile, MAX_SOURCE_FILE_CHARS - 1) : fullLandingFile;
  const folder = landingPath.split('/')[0] ?? '';
  const source = uploadSourceFor(folder);
  const sourceName = source?.name ?? folder;

  // The content hash is the file's identity. It is read in a pass of its own, conditional on the
  // same etag as the rows' pass, which runs meanwhile: the rows' writers wait for the hash (it names
  // their blobs) and for the answer that the file is new, so at most a buffer or two waits in memory.
  const hashing = run.step('hash', async () => {
    const res = await blob.download(0, undefined, { conditions: { ifMatch: etag } });
    return { value: await sha256Of(res.readableStreamBody as Readable), rowsIn: 0, detail: { bytes: props.contentLength } };
  }).then((r) => r.value);
  const verdict = hashing.then(async (sha256): Promise<{ sha256: string; known?: UploadOutcome }> => {
    const seen = await ctx.warehouse.query<{ landing_file: string; status: string }>(
      `SELECT landing_file, status FROM ops.file_ingests WHERE source = @source AND content_sha256 = @sha AND status IN ('loaded', 'rejected')`,
      { source: sourceName, sha: sha256 },
    );
    if (seen.some((s) => s.landing_file === landingFile)) {
      ctx.log.info('file already ingested; nothing to do', { landingFile, sha256 });
      return { sha256, known: { status: 'already_ingested', sha256 } };
    }
    if (seen.length > 0) {
      await recordFileIngest(ctx, run, { sha256, landingFile, source: sourceName, status: 'duplicate', rowsTotal: 0, rowsAccepted: 0, rowsQuarantined: 0, reason: `same content as ${seen[0]!.landing_file}` });
      ctx.log.info('duplicate upload: same bytes already ingested', { landingFile, firstSeenAs: seen[0]!.landing_file });
      return { sha256, known: { status: 'duplicate', sha256, firstSeenAs: seen[0]!.landing_file } };
    }
    return { sha256 };
  });
  verdict.catch(() => undefined); // awaited below on every path; this only keeps an early failure from being "unhandled"

  const partition = `ingest_date=${arrivalDate}`;
  const download = async () => (await blob.download(0, undefined, { conditions: { ifMatch: etag } })).readableStreamBody as Readable;

  if (tooLong || !source) {
    const { sha256, known } = await verdict;
    if (known) return known;
    // The warehouse could not record the path (lineage, ops.file_ingests): refused here instead of
    // failing in a load. The blob stays in landing; a copy goes to quarantine as for any rejection.
    const reason = tooLong
      ? `the landing path is ${fullLandingFile.length} characters long; the warehouse records at most ${MAX_SOURCE_FILE_CHARS} (rename the file or use shorter folders): ${fullLandingFile}`
      : `no source is registered for the landing folder "${clipText(folder, 200)}" (file ${landingFile})`;
    return rejectFile(ctx, run, { sourceName: source?.name ?? '_unknown', landingFile, sha256, partition, reason, rowsTotal: 0, download, drift: [] });
  }

  // the hash, once the file is known to be new; rejected with NotNew otherwise
  const ready = verdict.then(({ sha256, known }) => {
    if (known) throw new NotNew();
    return sha256;
  });
  ready.catch(() => undefined);

  let outcome: UploadOutcome | undefined;
  await run.step('parse_and_write', async () => {
    const split = await splitRows(ctx, source, { landingFile, ready, arrivalDate, partition, download });
    if (split.status === 'not_new') {
      outcome = (await verdict).known!;
      return { rowsIn: 0, rowsOut: 0, detail: { stopped: outcome.status } };
    }
    const sha256 = await ready;
    if (split.status === 'file_rejected') {
      outcome = await rejectFile(ctx, run, { sourceName: source.name, landingFile, sha256, partition, reason: split.reason, rowsTotal: split.rowsTotal, download, drift: split.drift });
      return { rowsIn: split.rowsTotal, rowsOut: 0, rowsRejected: split.rowsTotal, detail: { rejected: split.reason, ...driftDetail(split.drift) } };
    }
    await recordFileIngest(ctx, run, {
      sha256, landingFile, source: source.name, status: 'loaded',
      rowsTotal: split.rowsTotal, rowsAccepted: split.rowsAccepted, rowsQuarantined: split.rowsQuarantined,
      bronzeFile: split.bronzeFile, quarantineFile: split.quarantineFile, drift: split.drift,
    });
    reportFile(ctx, run, source.name, landingFile, { landed: split.rowsAccepted, quarantined: split.rowsQuarantined, drift: split.drift });
    if (split.dates) await requestTransform(ctx.storage, source.name, split.dates, 'upload_ingest');
    ctx.log.info('file ingested', { landingFile, rowsTotal: split.rowsTotal, accepted: split.rowsAccepted, quarantined: split.rowsQuarantined, drift: split.drift.length });
    outcome = {
      status: 'loaded', sha256, rowsTotal: split.rowsTotal, rowsAccepted: split.rowsAccepted,
      rowsQuarantined: split.rowsQuarantined, bronzeFile: split.bronzeFile, quarantineFile: split.quarantineFile, drift: split.drift,
    };
    return { rowsIn: split.rowsTotal, rowsOut: split.rowsAccepted, rowsRejected: split.rowsQuarantined, detail: { quarantined: split.rowsQuarantined, ...driftDetail(split.drift) } };
  });
  return outcome!;
}

/** The file was ingested before (same bytes): the rows' pass stops. */
class NotNew extends Error {}

/** Drift in a step's detail: the kind and column of each finding. */
function driftDetail(drift: readonly DriftFinding[]): { drift?: string[] } {
  return drift.length ? { drift: drift.map((f) => `${f.kind}:${f.column}`) } : {};
}

/** A file's fate for the portal: rows landed and quarantined, and its schema drift. */
function reportFile(ctx: PipelineContext, run: Run, source: string, file: string, r: { landed: number; quarantined: number; drift: DriftFinding[] }): void {
  ctx.telemetry.metric(METRICS.rowsLanded, r.landed, { source });
  ctx.telemetry.metric(METRICS.rowsQuarantined, r.quarantined, { source });
  reportSchemaDrift(ctx, { runId: run.runId, source, file, findings: r.drift, detectedAt: ctx.now() });
}

interface SplitInput {
  landingFile: string;
  /** The content hash once the file is known to be new (it names the blobs); rejects with NotNew otherwise. */
  ready: Promise<string>;
  arrivalDate: IsoDate;
  partition: string;
  download: () => Promise<Readable>;
}

type SplitOutcome =
  | { status: 'not_new' }
  | { status: 'file_rejected'; reason: string; rowsTotal: number; drift: DriftFinding[] }
  | {
      status: 'split'; rowsTotal: number; rowsAccepted: number; rowsQuarantined: number; bronzeFile: string; quarantineFile: string | null;
      dates?: { from: IsoDate; to: IsoDate }; drift: DriftFinding[];
    };

/** Pass 2: header check, then every row to bronze or quarantine; whole-file rules stop the writing and only count. */
async function splitRows(ctx: PipelineContext, source: UploadSource, input: SplitInput): Promise<SplitOutcome> {
  const settings = ctx.settings;
  const batches = csvRecordBatches(await input.download(), { maxRecordChars: settings.INGEST_MAX_RECORD_CHARS, encoding: source.encoding });
  let sha256 = '';
  const bronzePath = input.ready.then((sha) => `${source.name}/${input.partition}/${(sha256 = sha)}.jsonl`);
  const quarantinePath = input.ready.then((sha) => `${source.name}/${input.partition}/${sha}.rejected.jsonl`);
  let minDate: IsoDate | undefined;
  let maxDate: IsoDate | undefined;
  const ingestedAt = ctx.now();
  const lineage = (rows: number) =>
    bronzeLineage({ source: source.name, sourceFile: input.landingFile, ingestedAt, rows, minDate, maxDate, contentSha256: sha256 });
  const bronze: JsonLinesBlobWriter = new JsonLinesBlobWriter(container(ctx.storage, 'bronze'), bronzePath, () => lineage(bronze.count));
  const quarantine: JsonLinesBlobWriter = new JsonLinesBlobWriter(container(ctx.storage, 'quarantine'), quarantinePath, (): Record<string, string> => ({
    source: source.name,
    landing_file: encodeURIComponent(input.landingFile),
    row_count: String(quarantine.count),
  }));
  const reject = (line: number, field: string, reason: string, raw: string) =>
    quarantine.write({ source: source.name, file: input.landingFile, line, field, reason, raw } satisfies QuarantineRecord);
  const dataColumns = source.bronzeTable.columns.map((c) => c.name).filter((n) => !n.startsWith('_'));
  const dataKeys = dataColumns.map((c) => `${JSON.stringify(c)}:`);
  const quotedKeys = dataKeys.map((k) => `${k}"`);

  let header: string[] | undefined;
  let file: CsvFile | undefined;
  let extraAt: (readonly [string, number])[] = [];
  let extraKeys: string[] = [];
  let extraKeysAscii = true;
  // Set by a whole-file rule (header, encoding): from then on rows are only counted.
  let rejected: string | undefined;
  let rowsTotal = 0;

  const readHeader = (item: CsvItem): string | undefined => {
    const at = `${input.landingFile}, line ${item.line}`;
    if (item.kind === 'malformed') return `${at}: the header cannot be parsed: ${item.reason}`;
    if (item.kind !== 'record') return undefined;
    if (item.fields.length > settings.INGEST_MAX_COLUMNS) {
      return `${at}: header too wide: ${item.fields.length.toLocaleString('en-US')} columns, at most ${settings.INGEST_MAX_COLUMNS.toLocaleString('en-US')} (INGEST_MAX_COLUMNS)`;
    }
    header = item.fields.map(headerKey);
    file = source.openFile(header, { arrivalDate: input.arrivalDate, window: dateWindow(settings) });
    const { missingRequired: missing, repeated } = file;
    if (missing.length) {
      return `${at}: missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${clipText(m, 100)}"`).join(', ')} (header has ${header.slice(0, 20).map((h) => `"${clipText(h, 100)}"`).join(', ')}${header.length > 20 ? `, … ${header.length} in all` : ''})`;
    }
    if (repeated.length) return `${at}: column${repeated.length > 1 ? 's' : ''} ${repeated.map((m) => `"${clipText(m, 100)}"`).join(', ')} appear more than once in the header`;
    // Columns outside the contract go to _extra_columns.
    extraAt = file.extraColumns.map((e) => [e.name, e.index] as const);
    // `\"name\":\"` of each: a key and the opening of its value inside the JSON string
    extraKeys = extraAt.map(([name]) => `${JSON.stringify(JSON.stringify(name)).slice(1, -1)}:\\"`);
    extraKeysAscii = extraKeys.every((k) => ASCII.test(k));
    return undefined;
  };

  try {
    let headerSeen = false;
    const progress = progressReporter(ctx, input.landingFile);
    for await (const batch of batches) {
      for (const item of batch) {
        if (item.kind === 'encoding') {
          rejected ??= `${input.landingFile}: ${item.reason}`;
          continue;
        }
        if (!headerSeen) {
          headerSeen = true;
          const problem = readHeader(item);
          rejected ??= problem;
          continue;
        }
        rowsTotal++;
        progress(rowsTotal, quarantine.count);
        if (rejected !== undefined) continue;
        if (item.kind === 'malformed') {
          const pending = reject(item.line, '', `unparseable CSV: ${item.reason}`, item.raw);
          if (pending) await pending;
          continue;
        }
        const fields = item.fields;
        if (fields.length !== header!.length) {
          const pending = reject(item.line, '', `expected ${header!.length} fields as in the header, found ${fields.length}`, item.raw);
          if (pending) await pending;
          continue;
        }
        const result = file!.validateRow(fields);
        if ('reason' in result) {
          const pending = reject(item.line, result.field, `${result.field}: ${result.reason}`, item.raw);
          if (pending) await pending;
          continue;
        }
        if (!minDate || result.businessDate < minDate) minDate = result.businessDate;
        if (!maxDate || result.businessDate > maxDate) maxDate = result.businessDate;
        // The line as JSON.stringify would write it, built from pieces (measured the hot spot). A
        // record without quotes, backslashes or characters outside printable ASCII has only plain
        // values: quoted as they are, and the line is ASCII, copied byte for byte.
        const plain = PLAIN_ASCII.test(item.raw);
        const values = result.values;
        let line = '{';
        for (let k = 0; k < dataColumns.length; k++) {
          const v = values[dataColumns[k]!];
          if (typeof v === 'string' && (plain || PLAIN_ASCII.test(v))) line += quotedKeys[k]! + v + '",';
          else line += dataKeys[k]! + (v === null || v === undefined ? 'null' : JSON.stringify(v)) + ',';
        }
        // file-level lineage (_source_file, _ingested_at) is blob metadata, stamped by the loader
        if (extraAt.length === 0) line += '"_extra_columns":null';
        else if (plain) {
          // the JSON text of {name: value, …}, itself as a JSON string
          line += '"_extra_columns":"{';
          for (let e = 0; e < extraAt.length; e++) line += (e > 0 ? ',' : '') + extraKeys[e]! + fields[extraAt[e]![1]]! + '\\"';
          line += '}"';
        } else {
          const extra: Record<string, string> = {};
          for (const [h, i] of extraAt) extra[h] = fields[i]!;
          line += `"_extra_columns":${JSON.stringify(JSON.stringify(extra))}`;
        }
        line += `,"_row_number":${item.line}}`;
        const pending = bronze.addLine(line, (plain && extraKeysAscii) || ASCII.test(line));
        if (pending) await pending;
      }
    }
    progress(rowsTotal, quarantine.count, true);
    const drift = capDrift(file?.drift() ?? [], settings.INGEST_MAX_DRIFT_FINDINGS);
    if (!headerSeen) rejected = `${input.landingFile}: the file is empty (no header line)`;
    if (rejected !== undefined) {
      const err = new Error('file rejected');
      bronze.abort(err);
      quarantine.abort(err);
      await input.ready;
      return { status: 'file_rejected', reason: rejected, rowsTotal, drift };
    }
    await input.ready;
    // Quarantine first: once the bronze blob exists, the loader may pick it up.
    const wroteQuarantine = await quarantine.close();
    await bronze.close();
    if (bronze.count === 0) {
      // Nothing accepted: still leave an empty bronze blob so the file's fate is visible in the lake.
      await container(ctx.storage, 'bronze').getBlockBlobClient(await bronzePath).upload('', 0, { metadata: lineage(0) });
    }
    return {
      status: 'split',
      rowsTotal,
      rowsAccepted: bronze.count,
      rowsQuarantined: quarantine.count,
      bronzeFile: `bronze/${await bronzePath}`,
      quarantineFile: wroteQuarantine ? `quarantine/${await quarantinePath}` : null,
      ...(minDate ? { dates: { from: minDate, to: maxDate! } } : {}),
      drift,
    };
  } catch (err) {
    bronze.abort(err as Error);
    quarantine.abort(err as Error);
    if (err instanceof NotNew) return { status: 'not_new' };
    throw err;
  }
}

/** A whole file refused: its bytes are copied to quarantine beside a note saying why. */
async function rejectFile(
  ctx: PipelineContext,
  run: Run,
  input: { sourceName: string; landingFile: string; sha256: string; partition: string; reason: string; rowsTotal: number; download: () => Promise<Readable>; drift: DriftFinding[] },
): Promise<UploadOutcome & { status: 'rejected' }> {
  const q = container(ctx.storage, 'quarantine');
  const base = `${input.sourceName}/${input.partition}/${input.sha256}`;
  // the last part of the path, short enough for any blob name
  const fileName = clipText(input.landingFile.split('/').pop() || 'file', 200).replace(/\.+$/, '_');
  await uploadStreamAtomically(q, `${base}.file/${fileName}`, await input.download(), { contentType: 'text/csv' });
  await writeJsonBlob(q, `${base}.file/reason.json`, { source: input.sourceName, file: input.landingFile, content_sha256: input.sha256, reason: input.reason, rows: input.rowsTotal });
  await recordFileIngest(ctx, run, {
    sha256: input.sha256, landingFile: input.landingFile, source: input.sourceName, status: 'rejected',
    rowsTotal: input.rowsTotal, rowsAccepted: 0, rowsQuarantined: input.rowsTotal, quarantineFile: `quarantine/${base}.file/${fileName}`, reason: input.reason,
    drift: input.drift,
  });
  ctx.log.warn(`file rejected: ${input.reason}`, { landingFile: input.landingFile });
  ctx.telemetry.event(EVENTS.fileRejected, { runId: run.runId, source: input.sourceName, file: input.landingFile, reason: input.reason });
  reportFile(ctx, run, input.sourceName, input.landingFile, { landed: 0, quarantined: input.rowsTotal, drift: input.drift });
  return { status: 'rejected', reason: input.reason, rowsTotal: input.rowsTotal, quarantineFile: `quarantine/${base}.file/${fileName}`, sha256: input.sha256, drift: input.drift };
}

async function recordFileIngest(
  ctx: PipelineContext,
  run: Run,
  r: {
    sha256: string; landingFile: string; source: string; status: string; rowsTotal: number; rowsAccepted: number; rowsQuarantined: number;
    bronzeFile?: string; quarantineFile?: string | null; reason?: string; drift?: readonly DriftFinding[];
  },
): Promise<void> {
  // One transaction: the file's row and its drift rows exist together or not at all, so a file is
  // never re-ingested with its drift already recorded (and drift rows are never duplicated).
  await ctx.warehouse.transaction(async (tx) => {
    // the key holds the path's hash: a landing path can be longer than a key may be (900 bytes)
    const landingFileHash = sha256Hex(r.landingFile);
    await tx.exec(
      `DELETE FROM ops.schema_drift WHERE source_file_hash = @landing_file_hash AND run_id IN (SELECT run_id FROM ops.file_ingests WHERE content_sha256 = @sha AND landing_file_hash = @landing_file_hash)`,
      { sha: r.sha256, landing_file_hash: landingFileHash },
    );
    await tx.exec(`DELETE FROM ops.file_ingests WHERE content_sha256 = @sha AND landing_file_hash = @landing_file_hash`, { sha: r.sha256, landing_file_hash: landingFileHash });
    await tx.exec(
      `INSERT INTO ops.file_ingests (content_sha256, landing_file, landing_file_hash, source, status, rows_total, rows_accepted, rows_quarantined, bronze_file, quarantine_file, reason, ingested_at, run_id)
       VALUES (@sha, @landing_file, @landing_file_hash, @source, @status, @rows_total, @rows_accepted, @rows_quarantined, @bronze_file, @quarantine_file, @reason, @now, @run_id)`,
      {
        sha: r.sha256, landing_file: r.landingFile, landing_file_hash: landingFileHash, source: r.source, status: r.status, rows_total: r.rowsTotal, rows_accepted: r.rowsAccepted,
        rows_quarantined: r.rowsQuarantined, bronze_file: r.bronzeFile ?? null, quarantine_file: r.quarantineFile ?? null, reason: r.reason ?? null,
        now: ctx.now(), run_id: run.runId,
      },
    );
    if (r.drift?.length) await insertSchemaDrift(tx, { runId: run.runId, source: r.source, file: r.landingFile, findings: r.drift, detectedAt: ctx.now() });
  });
}
