/**
 * Schema drift in `ops.schema_drift`: one row per finding (a new column, a missing optional
 * column, a changed type) per file — an uploaded file, or the API request of a pulled date —
 * with the run that saw it. Drift is recorded and reported, never fatal.
 *
 * A file's findings replace what was recorded for it before, in one transaction, so re-delivery
 * or a re-pull never duplicates rows: `replaceSchemaDrift` for a pulled date (the latest pull of
 * a date wins, as its bronze blob does); for an upload, `insertSchemaDrift` runs in the same
 * transaction as its `ops.file_ingests` row, so the file is either recorded with its drift or not
 * at all (and then ingested again).
 */
import type { PipelineContext } from '../core/context.js';
import { sha256Hex } from '../core/hash.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import type { DriftFinding } from '../sources/contract.js';
import type { SqlSession, Warehouse } from '../warehouse/warehouse.js';

export interface FileDrift {
  runId: string;
  source: string;
  /** The landing file, or the API request of a pulled date. */
  file: string;
  findings: readonly DriftFinding[];
  detectedAt: Date;
}

/** The findings as `ops.schema_drift` rows (bound as parameters, never spliced into SQL). */
export async function insertSchemaDrift(session: SqlSession, drift: FileDrift): Promise<void> {
  // The key is (run, file, kind, column): one row per column and kind even if a finding repeats.
  const seen = new Set<string>();
  for (const f of drift.findings) {
    const key = `${f.kind}\u0000${f.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await session.exec(
      `INSERT INTO ops.schema_drift (run_id, source, source_file, source_file_hash, drift_kind, column_name, expected, observed, detail, detected_at)
       VALUES (@run_id, @source, @source_file, @source_file_hash, @drift_kind, @column_name, @expected, @observed, @detail, @detected_at)`,
      {
        run_id: drift.runId,
        source: drift.source,
        source_file: drift.file,
        source_file_hash: sha256Hex(drift.file),
        drift_kind: f.kind,
        column_name: f.column.slice(0, 256),
        expected: f.expected?.slice(0, 64) ?? null,
        observed: f.observed?.slice(0, 256) ?? null,
        detail: f.detail,
        detected_at: drift.detectedAt,
      },
    );
  }
}

/** Deletes what an earlier run recorded for the file, then inserts these findings (none: only deletes). */
export async function replaceSchemaDrift(wh: Warehouse, drift: FileDrift): Promise<void> {
  const remove = (session: SqlSession) =>
    session.exec(`DELETE FROM ops.schema_drift WHERE source_file_hash = @source_file_hash AND source = @source`, { source: drift.source, source_file_hash: sha256Hex(drift.file) });
  if (drift.findings.length === 0) {
    await remove(wh);
    return;
  }
  await wh.transaction(async (tx) => {
    await remove(tx);
    await insertSchemaDrift(tx, drift);
  });
}

/** One line per finding, for logs. */
export function driftSummary(findings: readonly DriftFinding[]): string {
  return findings
    .map((f) => {
      if (f.kind === 'changed_type') return `changed_type "${f.column}" (expected ${f.expected}, observed ${f.observed}, e.g. ${JSON.stringify(f.example)})`;
      if (f.kind === 'new_column') return `new_column "${f.column}"`;
      return `missing_optional_column "${f.column}"`;
    })
    .join('; ');
}

/**
 * Reports a file's drift: one warning line naming the file and its findings, and per finding
 * the metric `pipeline.schema_drift` (source, kind) and the event `pipeline.schema_drift`.
 */
export function reportSchemaDrift(ctx: Pick<PipelineContext, 'log' | 'telemetry'>, drift: FileDrift): void {
  if (drift.findings.length === 0) return;
  ctx.log.warn(`schema drift in ${drift.file}: ${driftSummary(drift.findings)}`, {
    source: drift.source,
    file: drift.file,
    findings: drift.findings.map((f) => ({ kind: f.kind, column: f.column, expected: f.expected, observed: f.observed })),
  });
  for (const f of drift.findings) {
    ctx.telemetry.metric(METRICS.schemaDrift, 1, { source: drift.source, kind: f.kind });
    ctx.telemetry.event(EVENTS.schemaDrift, {
      runId: drift.runId,
      source: drift.source,
      file: drift.file,
      kind: f.kind,
      column: f.column,
      expected: f.expected ?? null,
      observed: f.observed ?? null,
    });
  }
}
