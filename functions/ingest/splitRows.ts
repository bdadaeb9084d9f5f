/**
 * Pass 2 of an upload ingest: a landed CSV file's rows, each to bronze (JSON lines with lineage)
 * or to quarantine (with file, line, field and reason). Storage in, storage out: nothing here
 * touches the warehouse, so it runs in the function's own thread or on a worker thread
 * (`splitPool.ts`) alike. Streams end to end: memory does not grow with the file.
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { progressReporter, type PipelineContext } from '../core/context.js';
import type { IsoDate } from '../core/dates.js';
import { capDrift, clipText, dateWindow, type DriftFinding } from '../sources/contract.js';
import { headerKey } from '../sources/csvContract.js';
import type { CsvFile, UploadSource } from '../sources/uploadSource.js';
import { bronzeLineage, container, uploadStreamAtomically } from '../storage/blobStore.js';
import { csvRecordBatches, type CsvItem } from './csvRecords.js';

/** The unit of quarantine: one bad row, or one whole file. */
export interface QuarantineRecord {
  source: string;
  file: string;
  line: number;
  field: string;
  reason: string;
  raw: string;
}

/** The landing blob's bytes as a stream, each read conditional on the etag its event was handled with. */
export function landingDownload(storage: PipelineContext['storage'], landingPath: string, etag: string): () => Promise<Readable> {
  const blob = container(storage, 'landing').getBlobClient(landingPath);
  return async () => (await blob.download(0, undefined, { conditions: { ifMatch: etag } })).readableStreamBody as Readable;
}

/** What splitting a file needs of the pipeline: settings, storage and (optionally) a progress sink. */
export type SplitEnv = Pick<PipelineContext, 'settings' | 'storage' | 'progress'>;

/**
 * A JSON-lines blob written as a stream; the upload starts with the first line (none: no blob).
 * Lines are written straight into 1 MB buffers handed to the stream when full, so the per-row
 * cost is one string-to-bytes copy, not a stream write, an await, or a join of thousands of lines.
 */
export class JsonLinesBlobWriter {
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


/** The file was ingested before (same bytes): the rows' pass stops. */
export class NotNew extends Error {}

export interface SplitInput {
  landingFile: string;
  /** The content hash once the file is known to be new (it names the blobs); rejects with NotNew otherwise. */
  ready: Promise<string>;
  arrivalDate: IsoDate;
  partition: string;
  /** When the file was ingested: the lineage of every row. */
  ingestedAt: Date;
  download: () => Promise<Readable>;
}

export type SplitOutcome =
  | { status: 'not_new' }
  | { status: 'file_rejected'; reason: string; rowsTotal: number; drift: DriftFinding[] }
  | {
      status: 'split'; rowsTotal: number; rowsAccepted: number; rowsQuarantined: number; bronzeFile: string; quarantineFile: string | null;
      dates?: { from: IsoDate; to: IsoDate }; drift: DriftFinding[];
    };

/** Pass 2: header check, then every row to bronze or quarantine; whole-file rules stop the writing and only count. */
export async function splitRows(env: SplitEnv, source: UploadSource, input: SplitInput): Promise<SplitOutcome> {
  const settings = env.settings;
  const batches = csvRecordBatches(await input.download(), { maxRecordChars: settings.INGEST_MAX_RECORD_CHARS, encoding: source.encoding });
  let sha256 = '';
  const bronzePath = input.ready.then((sha) => `${source.name}/${input.partition}/${(sha256 = sha)}.jsonl`);
  const quarantinePath = input.ready.then((sha) => `${source.name}/${input.partition}/${sha}.rejected.jsonl`);
  let minDate: IsoDate | undefined;
  let maxDate: IsoDate | undefined;
  const ingestedAt = input.ingestedAt;
  const lineage = (rows: number) =>
    bronzeLineage({ source: source.name, sourceFile: input.landingFile, ingestedAt, rows, minDate, maxDate, contentSha256: sha256 });
  const bronze: JsonLinesBlobWriter = new JsonLinesBlobWriter(container(env.storage, 'bronze'), bronzePath, () => lineage(bronze.count));
  const quarantine: JsonLinesBlobWriter = new JsonLinesBlobWriter(container(env.storage, 'quarantine'), quarantinePath, (): Record<string, string> => ({
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
    const progress = progressReporter(env, input.landingFile);
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
      await container(env.storage, 'bronze').getBlockBlobClient(await bronzePath).upload('', 0, { metadata: lineage(0) });
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

