/**
 * Run history in the `ops` schema: every trigger invocation is a run, every unit of work in it a
 * step, each with status, timings, rows in / out and the error when it failed.
 */
import { randomUUID } from 'node:crypto';
import type { Log } from '../core/log.js';
import type { PipelineContext } from '../core/context.js';
import { EVENTS, METRICS, type Telemetry } from '../core/telemetry.js';
import { MAX_TRIGGER_NAME_CHARS } from '../warehouse/catalog.js';
import type { SqlSession, Warehouse } from '../warehouse/warehouse.js';

export type RunKind = 'upload_ingest' | 'usage_ingest' | 'transform' | 'freshness_check' | 'operation';

/** `skipped`: not run because something it needs failed (a model whose parent failed). */
export type StepStatus = 'succeeded' | 'failed' | 'skipped';

export interface StepCounts {
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  detail?: unknown;
}

export interface RunTotals {
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  detail?: unknown;
}

function detailText(detail: unknown): string | null {
  if (detail === undefined || detail === null) return null;
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A trigger name as recorded: whole when it fits `ops.pipeline_runs.trigger_name`, else cut (at a
 * code point boundary) and marked with `…`. The column holds a trigger and a landing path of
 * Azure's longest blob name; only a longer one is cut, and the name is for people, not a key.
 */
export function recordedTriggerName(name: string, max = MAX_TRIGGER_NAME_CHARS): string {
  if (name.length <= max) return name;
  let cut = name.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // never half a surrogate pair
  return `${cut}…`;
}

/*
 * Autocommit statements here may run twice: outside a transaction the SQL Server engine retries a
 * statement whose acknowledgement was lost (a dropped connection after the server committed it).
 * So every INSERT inserts only what is not there yet, and every UPDATE sets absolute values.
 */

export class Run {
  private stepSeq = 0;
  readonly startedAt = new Date();

  private constructor(
    private readonly wh: Warehouse,
    readonly runId: string,
    readonly kind: RunKind,
    readonly triggerName: string,
    readonly log: Log,
    readonly telemetry: Telemetry,
  ) {}

  static async start(ctx: Pick<PipelineContext, 'warehouse' | 'log' | 'telemetry'>, kind: RunKind, triggerName: string): Promise<Run> {
    const runId = randomUUID();
    const wh = ctx.warehouse;
    const run = new Run(wh, runId, kind, triggerName, withRunId(ctx.log, runId), ctx.telemetry);
    await wh.exec(
      `INSERT INTO ops.pipeline_runs (run_id, kind, trigger_name, status, started_at)
       SELECT @run_id, @kind, @trigger_name, 'running', @started_at
       WHERE NOT EXISTS (SELECT 1 FROM ops.pipeline_runs WHERE run_id = @run_id)`,
      { run_id: runId, kind, trigger_name: recordedTriggerName(triggerName), started_at: run.startedAt },
    );
    run.log.info(`${kind} run started`, { trigger: triggerName });
    return run;
  }

  /**
   * Runs one step and records it. `fn` returns its counts; a thrown error marks the step failed
   * and propagates. Pass `session` to record the step inside the caller's transaction.
   */
  async step<T extends StepCounts>(name: string, fn: () => Promise<T>, session: SqlSession = this.wh): Promise<T> {
    const started = new Date();
    try {
      const result = await fn();
      await this.recordStep(name, 'succeeded', started, result, null, session);
      return result;
    } catch (err) {
      await this.recordStep(name, 'failed', started, {}, errorText(err)).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Records a step timed by the caller (for work that ran inside a transaction, where the step
   * can only be written once the transaction has ended).
   */
  async recordStep(name: string, status: StepStatus, started: Date, counts: StepCounts, error: string | null, session: SqlSession = this.wh, finished = new Date()): Promise<void> {
    const seq = ++this.stepSeq;
    const durationMs = finished.getTime() - started.getTime();
    this.telemetry.metric(METRICS.stageDuration, durationMs, { stage: stageOf(name), status });
    await session.exec(
      `INSERT INTO ops.run_steps (run_id, step_seq, step_name, status, started_at, finished_at, duration_ms, rows_in, rows_out, rows_rejected, detail, error)
       SELECT @run_id, @seq, @name, @status, @started_at, @finished_at, @duration_ms, @rows_in, @rows_out, @rows_rejected, @detail, @error
       WHERE NOT EXISTS (SELECT 1 FROM ops.run_steps WHERE run_id = @run_id AND step_seq = @seq)`,
      {
        run_id: this.runId,
        seq,
        name,
        status,
        started_at: started,
        finished_at: finished,
        duration_ms: durationMs,
        rows_in: counts.rowsIn ?? null,
        rows_out: counts.rowsOut ?? null,
        rows_rejected: counts.rowsRejected ?? null,
        detail: detailText(counts.detail),
        error,
      },
    );
    const props = { ms: durationMs, rowsIn: counts.rowsIn, rowsOut: counts.rowsOut, rowsRejected: counts.rowsRejected, ...(error ? { error } : {}) };
    if (status === 'failed') this.log.warn(`step ${name} failed`, props);
    else this.log.info(`step ${name} ${status}`, props);
  }

  async finish(status: 'succeeded' | 'failed' | 'skipped', totals: RunTotals = {}, error?: unknown): Promise<void> {
    const finished = new Date();
    await this.wh.exec(
      `UPDATE ops.pipeline_runs SET status = @status, finished_at = @finished_at, duration_ms = @duration_ms,
         rows_in = @rows_in, rows_out = @rows_out, rows_rejected = @rows_rejected, detail = @detail, error = @error
       WHERE run_id = @run_id`,
      {
        run_id: this.runId,
        status,
        finished_at: finished,
        duration_ms: finished.getTime() - this.startedAt.getTime(),
        rows_in: totals.rowsIn ?? null,
        rows_out: totals.rowsOut ?? null,
        rows_rejected: totals.rowsRejected ?? null,
        detail: detailText(totals.detail),
        error: error === undefined ? null : errorText(error),
      },
    );
    const durationMs = finished.getTime() - this.startedAt.getTime();
    const props = { ms: durationMs, rowsIn: totals.rowsIn, rowsOut: totals.rowsOut, rowsRejected: totals.rowsRejected };
    if (status === 'failed') this.log.error(`${this.kind} run failed: ${errorText(error)}`, props);
    else this.log.info(`${this.kind} run ${status}`, props);
    this.telemetry.metric(METRICS.runCompleted, 1, { kind: this.kind, status });
    this.telemetry.metric(METRICS.stageDuration, durationMs, { stage: this.kind, status });
    this.telemetry.event(EVENTS.runFinished, {
      runId: this.runId,
      kind: this.kind,
      trigger: this.triggerName,
      status,
      durationMs,
      rowsIn: totals.rowsIn,
      rowsOut: totals.rowsOut,
      rowsRejected: totals.rowsRejected,
      error: error === undefined ? undefined : errorText(error),
    });
  }
}

/** A step's stage for metrics: its first word (`load`, `pull`, `tests`) or the model it builds. */
function stageOf(stepName: string): string {
  return stepName.split(/[\s:]/, 1)[0]!;
}

/** A logger whose every line carries the run id. */
export function withRunId(log: Log, runId: string): Log {
  return {
    info: (m, p) => log.info(m, { runId, ...p }),
    warn: (m, p) => log.warn(m, { runId, ...p }),
    error: (m, p) => log.error(m, { runId, ...p }),
  };
}
