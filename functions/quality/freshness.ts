/**
 * Source freshness: hours since each source last delivered (the newest `_ingested_at` in its
 * bronze table) against the thresholds its contract declares. A source that stops arriving
 * triggers nothing, so this runs on its own timer and on demand, not only after loads.
 */
import type { PipelineContext } from '../core/context.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import { Run } from '../ops/runs.js';
import { DOMAINS } from '../domains/registry.js';
import { runDataTests, test, type DataTestResult, type TestStatus } from './dataTests.js';
import { recordTestResults } from './recordResults.js';
import type { SqlSession } from '../warehouse/warehouse.js';
import type { TableDef } from '../warehouse/catalog.js';

export interface SourceFreshness {
  source: string;
  status: TestStatus;
  /** Newest `_ingested_at` (UTC, ISO 8601), or null when nothing has arrived yet. */
  latestIngestedAt: string | null;
  lagHours: number | null;
  warnAfterHours: number;
  errorAfterHours: number;
  /** Newest business date in the source's bronze table (snapshot or activity date). */
  latestBusinessDate: string | null;
  message: string;
}

/** What measuring needs: a session to read the bronze tables, and the time to measure at. */
type Measuring = { warehouse: SqlSession; now: () => Date };

/**
 * Freshness at `ctx.now()` of every source that is expected to deliver (see
 * `SourceChecks.freshness`: the sources of a domain nobody feeds are left out); read-only (the
 * report measures at its latest run).
 */
export async function sourceFreshness(ctx: Measuring): Promise<SourceFreshness[]> {
  return (await measure(ctx)).map((m) => m.freshness);
}

/**
 * The freshness check as a recorded run (timer `freshnessCheck`, or an operator): one result per
 * source in `ops.data_test_results`, the lag as a metric, and an event for each late source.
 */
export async function runFreshnessCheck(ctx: PipelineContext, triggerName = 'freshness_check'): Promise<{ runId: string; sources: SourceFreshness[] }> {
  const run = await Run.start(ctx, 'freshness_check', triggerName);
  try {
    const started = new Date();
    const measured = await measure(ctx);
    await recordTestResults({ ...ctx, log: run.log }, run, 'freshness', measured.map((m) => m.result), started, new Date());
    for (const { freshness: f } of measured) {
      ctx.telemetry.metric(METRICS.freshnessLag, f.lagHours ?? -1, { source: f.source, status: f.status });
      if (f.status !== 'pass') {
        ctx.telemetry.event(EVENTS.sourceStale, {
          source: f.source,
          status: f.status,
          lagHours: f.lagHours,
          warnAfterHours: f.warnAfterHours,
          errorAfterHours: f.errorAfterHours,
          latestIngestedAt: f.latestIngestedAt,
        });
      }
    }
    const sources = measured.map((m) => m.freshness);
    const stale = sources.filter((s) => s.status !== 'pass');
    // The check itself succeeded; a late source is a finding (result, metric, event), not a crash.
    await run.finish('succeeded', { rowsIn: sources.length, rowsOut: sources.length - stale.length, rowsRejected: stale.length, detail: sources });
    return { runId: run.runId, sources };
  } catch (err) {
    await run.finish('failed', {}, err).catch(() => undefined);
    throw err;
  }
}

async function measure(ctx: Measuring): Promise<{ freshness: SourceFreshness; result: DataTestResult }[]> {
  const now = ctx.now();
  const out: { freshness: SourceFreshness; result: DataTestResult }[] = [];
  for (const domain of DOMAINS) {
    const measured: { freshness: SourceFreshness; result: DataTestResult; expectedFrom: 'domain' | 'own' }[] = [];
    for (const source of domain.bronzeSources) {
      const { expectedFrom = 'domain', ...limits } = source.checks.freshness;
      const [result] = await runDataTests(ctx.warehouse, [test.freshness(limits)], { table: source.table, now });
      const [latest] = await ctx.warehouse.query<{ d: string | null }>(
        `SELECT ${latestDateOf(source.table, source.dateColumn)} AS d FROM ${source.table.schema}.${source.table.name}`,
      );
      measured.push({
        expectedFrom,
        result: result!,
        freshness: {
          source: source.name,
          status: result!.status,
          latestIngestedAt: result!.latest?.toISOString() ?? null,
          lagHours: result!.observedValue === null ? null : Math.round(result!.observedValue * 10) / 10,
          ...limits,
          latestBusinessDate: latest?.d ?? null,
          message: result!.message,
        },
      });
    }
    // A source that never delivered is not late until it is expected (SourceChecks.freshness).
    const domainInUse = measured.some((m) => m.freshness.latestIngestedAt !== null);
    for (const { expectedFrom, ...m } of measured) {
      if (m.freshness.latestIngestedAt === null && (!domainInUse || expectedFrom === 'own')) continue;
      out.push(m);
    }
  }
  return out;
}

/**
 * The newest business date in a bronze table. A CSV source's bronze dates are canonical text
 * (`YYYY-MM-DD`, then the time of a timestamp), so the greatest text has the greatest date: one MAX,
 * then one cast, rather than a cast of every row (a scan of millions of CRM rows on each check).
 */
function latestDateOf(table: TableDef, dateColumn: string): string {
  const type = table.columns.find((c) => c.name === dateColumn)?.type;
  if (type?.kind === 'string') return `CAST(SUBSTRING(MAX(${dateColumn}), 1, 10) AS DATE)`;
  return `MAX(CAST(${dateColumn} AS DATE))`;
}
