/**
 * Data test results to `ops.data_test_results`, the run history, the log and telemetry. Written
 * after the stage's transaction has ended, so a rolled-back stage still leaves its results.
 */
import type { PipelineContext } from '../core/context.js';
import { sha256Hex } from '../core/hash.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import type { Run } from '../ops/runs.js';
import type { SqlParams } from '../warehouse/warehouse.js';
import type { DataTestResult } from './dataTests.js';

export interface TestSummary {
  tests: number;
  passed: number;
  warned: number;
  failed: number;
  /** The tests that did not pass: `<test id>: <message>`. */
  problems: string[];
}

export function summarise(results: readonly DataTestResult[]): TestSummary {
  return {
    tests: results.length,
    passed: results.filter((r) => r.status === 'pass').length,
    warned: results.filter((r) => r.status === 'warn').length,
    failed: results.filter((r) => r.status === 'error').length,
    problems: results.filter((r) => r.status !== 'pass').map((r) => `${r.status}: ${r.testId}: ${r.message}`),
  };
}

const RESULTS_PER_INSERT = 100;

/** Records one stage's test results as a step of `run` named `stepName`. */
export async function recordTestResults(ctx: PipelineContext, run: Run, stepName: string, results: readonly DataTestResult[], started: Date, finished: Date): Promise<TestSummary> {
  const summary = summarise(results);
  // One statement per RESULTS_PER_INSERT results (15 parameters a row and the run id; SQL Server takes 2,100 a statement)
  await ctx.warehouse.transaction(async (tx) => {
    for (let i = 0; i < results.length; i += RESULTS_PER_INSERT) {
      const chunk = results.slice(i, i + RESULTS_PER_INSERT);
      const params: SqlParams = { run_id: run.runId };
      const rows = chunk.map((r, j) => {
        Object.assign(params, {
          [`test_id_${j}`]: r.testId,
          [`test_id_hash_${j}`]: sha256Hex(r.testId),
          [`table_name_${j}`]: r.table,
          [`stage_${j}`]: r.stage,
          [`test_type_${j}`]: r.type,
          [`severity_${j}`]: r.severity,
          [`status_${j}`]: r.status,
          [`failing_rows_${j}`]: r.failingRows,
          [`observed_value_${j}`]: r.observedValue === null ? null : Math.round(r.observedValue * 1000) / 1000,
          [`sample_keys_${j}`]: r.sampleKeys.length ? JSON.stringify(r.sampleKeys) : null,
          [`message_${j}`]: r.message,
          [`date_from_${j}`]: r.range?.from ?? null,
          [`date_to_${j}`]: r.range?.to ?? null,
          [`checked_at_${j}`]: r.checkedAt,
          [`duration_ms_${j}`]: r.durationMs,
        });
        return `(@run_id, @test_id_${j}, @test_id_hash_${j}, @table_name_${j}, @stage_${j}, @test_type_${j}, @severity_${j}, @status_${j}, @failing_rows_${j}, @observed_value_${j}, @sample_keys_${j}, @message_${j}, CAST(@date_from_${j} AS DATE), CAST(@date_to_${j} AS DATE), @checked_at_${j}, @duration_ms_${j})`;
      });
      await tx.exec(
        `INSERT INTO ops.data_test_results (run_id, test_id, test_id_hash, table_name, stage, test_type, severity, status, failing_rows, observed_value, sample_keys, message, date_from, date_to, checked_at, duration_ms)
         VALUES ${rows.join(',\n              ')}`,
        params,
      );
    }
  });
  await run.recordStep(stepName, summary.failed > 0 ? 'failed' : 'succeeded', started, { rowsIn: summary.tests, rowsOut: summary.passed, rowsRejected: summary.warned + summary.failed, detail: summary }, summary.failed > 0 ? summary.problems.join('; ') : null, undefined, finished);

  for (const r of results) {
    if (r.status === 'pass') continue;
    ctx.telemetry.metric(METRICS.dataTestFailed, 1, { table: r.table, test: r.type, severity: r.severity, status: r.status });
    ctx.telemetry.event(EVENTS.dataTestFailed, {
      runId: run.runId,
      testId: r.testId,
      table: r.table,
      severity: r.severity,
      status: r.status,
      failingRows: r.failingRows,
      sampleKeys: JSON.stringify(r.sampleKeys),
      message: r.message,
    });
    const line = `data test ${r.status === 'error' ? 'failed' : 'warning'}: ${r.testId}: ${r.message}`;
    const props = { testId: r.testId, failingRows: r.failingRows, sampleKeys: r.sampleKeys };
    if (r.status === 'error') run.log.error(line, props);
    else run.log.warn(line, props);
  }
  return summary;
}
