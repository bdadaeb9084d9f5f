/**
 * The load step of a transform: bronze blobs that are new (or replaced since they were loaded) go
 * into their source's bronze table, each batch in one transaction with its `ops.loaded_files` rows
 * and a request for the dates it touched, so a batch is loaded whole or not at all and a crash
 * loses nothing: the next run finds the same blobs unloaded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sqlTimestampText, type PipelineContext } from '../core/context.js';
import { unionRange, type DateRange } from '../core/dates.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import type { BronzeSource } from '../domains/domain.js';
import type { Run } from '../ops/runs.js';
import type { ModelGraph } from './graph.js';
import { container, readBronzeLineage } from '../storage/blobStore.js';
import { OPS_TABLES } from '../warehouse/catalog.js';
import type { SqlParams } from '../warehouse/warehouse.js';
import { copyToQuarantine, removeFromBronze } from './isolate.js';
import { recordRequest } from './requests.js';

/**
 * Loads every new bronze file, one batch after another; the next batch downloads while the
 * current one is inserted. Returns the files and rows loaded.
 */
export async function loadNewBronzeFiles(ctx: PipelineContext, run: Run, newFiles: BronzeFile[]): Promise<{ rowsLoaded: number }> {
  let rowsLoaded = 0;
  const batches = loadBatches(newFiles);
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
  return { rowsLoaded };
}

export interface BronzeFile {
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
export async function listNewBronzeFiles(ctx: PipelineContext, graph: ModelGraph): Promise<BronzeFile[]> {
  const loaded = new Map(
    (await ctx.warehouse.query<{ bronze_file: string; etag: string }>(`SELECT bronze_file, etag FROM ops.loaded_files`)).map((r) => [r.bronze_file, r.etag]),
  );
  const bronze = container(ctx.storage, 'bronze');
  const sources = new Map(graph.bronzeSources.map((s) => [s.name, s]));
  const files: BronzeFile[] = [];
  // One listing of the container (paged by the service), not one per source: a transform that
  // finds nothing new costs one round trip, whatever the number of sources.
  for await (const blob of bronze.listBlobsFlat({ includeMetadata: true })) {
    const slash = blob.name.indexOf('/');
    const source = slash > 0 ? sources.get(blob.name.slice(0, slash)) : undefined;
    if (!source || !blob.name.endsWith('.jsonl')) continue;
    const etag = blob.properties.etag ?? '';
    if (loaded.get(`bronze/${blob.name}`) === etag) continue;
    const lineage = readBronzeLineage(blob.metadata);
    if (!lineage) {
      ctx.log.warn('bronze blob without lineage metadata skipped (not written by an ingester?)', { blob: `bronze/${blob.name}` });
      continue;
    }
    files.push({ source, path: blob.name, etag, ...lineage, reload: loaded.has(`bronze/${blob.name}`) });
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
  for (const source of new Set(files.map((f) => f.source))) {
    const own = files.filter((f) => f.source === source);
    for (let i = 0; i < own.length; i += FILES_PER_BATCH) batches.push(own.slice(i, i + FILES_PER_BATCH));
  }
  return batches;
}

/** A loaded file whose business dates cannot be read: it is taken out of the load and isolated. */
interface UnreadableFile {
  bronze_file: string;
  first_line: number;
  row_count: number;
  example: string;
}

/**
 * Loads a batch of bronze blobs of one source, replacing whatever earlier versions of them
 * loaded, and leaves a request for the dates they touched (old and new content), all in one
 * transaction: the batch is loaded whole or not at all.
 *
 * A file whose business dates cannot be read as dates (bronze written before the contracts held
 * a date window, or by hand) would stop every later load: it is taken out of the batch and
 * isolated to quarantine with the line and value, and the rest of the batch carries on.
 */
async function loadBronzeFiles(ctx: PipelineContext, runId: string, files: BronzeFile[], staged: StagedBatch): Promise<{ rowsIn: number; rowsOut: number; detail: unknown }> {
  const source = files[0]!.source;
  const table = source.table;
  const target = `${table.schema}.${table.name}`;
  const dateColumn = source.dateColumn; // from the source's declaration, never from input
  const textDates = table.columns.find((c) => c.name === dateColumn)?.type.kind === 'string';
  // `@f0, @f1, …`: placeholders generated here; the file names are bound as parameters
  const fileParams: SqlParams = {};
  const inList = files.map((f, i) => ((fileParams[`f${i}`] = `bronze/${f.path}`), `@f${i}`)).join(', ');
  const rangesSql = `SELECT _bronze_file, MIN(TRY_CAST(${dateColumn} AS DATE)) AS min_date, MAX(TRY_CAST(${dateColumn} AS DATE)) AS max_date, COUNT(*) AS row_count
                     FROM ${target} WHERE _bronze_file IN (${inList}) GROUP BY _bronze_file`;
  type FileRange = { _bronze_file: string; min_date: string | null; max_date: string | null; row_count: number };

  const loaded = await ctx.warehouse.transaction(async (tx) => {
    // Replacing earlier versions: their dates need rebuilding too. First loads skip the scans.
    const before = files.some((f) => f.reload) ? await tx.query<FileRange>(rangesSql, fileParams) : [];
    if (before.length > 0) await tx.exec(`DELETE FROM ${target} WHERE _bronze_file IN (${inList})`, fileParams);
    let rows = await tx.loadJsonLinesMany(
      table,
      files.map((f, i) => ({
        path: staged.paths[i]!,
        open: () => Promise.resolve(createReadStream(staged.paths[i]!)),
        constants: { _source_file: f.sourceFile, _ingested_at: sqlTimestampText(f.ingestedAt), _bronze_file: `bronze/${f.path}` },
      })),
    );
    const unreadable = textDates
      ? await tx.query<UnreadableFile>(
          `SELECT _bronze_file AS bronze_file, MIN(_row_number) AS first_line, COUNT(*) AS row_count, MIN(${dateColumn}) AS example
           FROM ${target} WHERE _bronze_file IN (${inList}) AND ${dateColumn} IS NOT NULL AND TRY_CAST(${dateColumn} AS DATE) IS NULL
           GROUP BY _bronze_file`,
          fileParams,
        )
      : [];
    for (const u of unreadable) {
      const [n] = await tx.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${target} WHERE _bronze_file = @file`, { file: u.bronze_file });
      await tx.exec(`DELETE FROM ${target} WHERE _bronze_file = @file`, { file: u.bronze_file });
      rows -= n?.n ?? 0;
    }
    const isolated = new Set(unreadable.map((u) => u.bronze_file));
    const after = (await tx.query<FileRange>(rangesSql, fileParams)).filter((r) => !isolated.has(r._bronze_file));
    let range: DateRange | undefined;
    for (const r of [...before, ...after]) if (r.min_date && r.max_date) range = unionRange(range, { from: r.min_date, to: r.max_date });

    const byFile = new Map(after.map((r) => [r._bronze_file, r]));
    await tx.exec(`DELETE FROM ops.loaded_files WHERE bronze_file IN (${inList})`, fileParams);
    const now = ctx.now();
    await tx.appendRows(
      OPS_TABLES.loadedFiles,
      files
        .filter((f) => !isolated.has(`bronze/${f.path}`))
        .map((f) => {
          const r = byFile.get(`bronze/${f.path}`);
          return [`bronze/${f.path}`, source.name, f.etag, r?.row_count ?? 0, r?.min_date ?? null, r?.max_date ?? null, now, runId];
        }),
    );
    if (range) await recordRequest(tx, { source: source.name, ...range, reason: `load of ${files.length} ${source.name} file(s)` }, now);
    return { rowsIn: rows, rowsOut: rows, unreadable, detail: { files: files.length, dates: range ?? null, ...(unreadable.length ? { isolated: unreadable } : {}) } };
  });
  // after the commit: the isolated files leave bronze for quarantine, with their reason
  for (const u of loaded.unreadable) {
    const reason = `${dateColumn} is not a date on line ${u.first_line}: "${u.example}" (${u.row_count} row(s) of the file have an unreadable ${dateColumn})`;
    const bronzePath = u.bronze_file.replace(/^bronze\//, '');
    const quarantinedAs = await copyToQuarantine(ctx, bronzePath, { source: source.name, reason, run_id: runId });
    await removeFromBronze(ctx, bronzePath);
    ctx.log.warn(`bronze file isolated by the load: ${reason}`, { file: u.bronze_file, quarantinedAs });
    ctx.telemetry.event(EVENTS.fileRejected, { runId, source: source.name, file: u.bronze_file, reason });
  }
  ctx.telemetry.metric(METRICS.rowsLoaded, loaded.rowsOut, { source: source.name });
  return { rowsIn: loaded.rowsIn, rowsOut: loaded.rowsOut, detail: loaded.detail };
}
