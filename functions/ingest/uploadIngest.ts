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
import type { Readable } from 'node:stream';
import type { PipelineContext } from '../core/context.js';
import { toIsoDate } from '../core/dates.js';
import { sha256Hex } from '../core/hash.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import { Run } from '../ops/runs.js';
import { insertSchemaDrift, reportSchemaDrift } from '../ops/schemaDrift.js';
import { clipText, type DriftFinding } from '../sources/contract.js';
import { uploadSourceFor } from '../domains/registry.js';
import { container, MAX_SOURCE_FILE_CHARS, uploadStreamAtomically, writeJsonBlob } from '../storage/blobStore.js';
import { requestTransform } from '../transform/requests.js';
import { splitFile } from './splitPool.js';
import { landingDownload, NotNew } from './splitRows.js';

export type { QuarantineRecord } from './splitRows.js';

export type UploadOutcome =
  | { status: 'loaded'; rowsTotal: number; rowsAccepted: number; rowsQuarantined: number; bronzeFile: string; quarantineFile: string | null; sha256: string; drift: DriftFinding[] }
  | { status: 'rejected'; reason: string; rowsTotal: number; quarantineFile: string; sha256: string; drift: DriftFinding[] }
  | { status: 'duplicate'; sha256: string; firstSeenAs: string }
  | { status: 'already_ingested'; sha256: string }
  | { status: 'gone' };



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
  const download = landingDownload(ctx.storage, landingPath, etag);

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
    const job = { sourceName: source.name, landingPath, etag, landingFile, arrivalDate, partition, ingestedAt: ctx.now() };
    const split = await splitFile(ctx, source, job, ready, props.contentLength ?? 0);
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
