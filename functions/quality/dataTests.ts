/**
 * Data tests: declared next to each model (`transform/models.ts`) and in each source's contract
 * (`checks`), run after each stage on either engine, results to
 * `ops.data_test_results`. A failing test with severity `error` stops publication (the stage's
 * transaction rolls back and the run fails); `warn` is recorded and reported.
 *
 * Every test is "count the rows that break a rule": the SQL is generated here from the test's
 * declaration, with column names checked against the table catalogue (never taken from input)
 * and values bound as parameters. Expression tests are SQL written by us in the declarations.
 */
import type { DateRange } from '../core/dates.js';
import { sha256Hex } from '../core/hash.js';
import type { TableDef } from '../warehouse/catalog.js';
import type { SqlParams, SqlSession } from '../warehouse/warehouse.js';

export type Severity = 'error' | 'warn';
export type TestStatus = 'pass' | Severity;

interface TestOptions {
  /** What a failure does: `error` stops publication, `warn` is reported (default `error`). */
  severity?: Severity;
  /** An extra condition on the tested rows (SQL written in a declaration, e.g. `is_current = 1`). */
  where?: string;
}

export type DataTest = TestOptions &
  (
    | { type: 'not_null'; columns: string[] }
    | { type: 'unique'; columns: string[] }
    | { type: 'relationships'; column: string; to: TableDef; field: string }
    | { type: 'accepted_values'; column: string; values: (string | number)[] }
    | { type: 'accepted_range'; column: string; min?: number; max?: number }
    | { type: 'expression'; name: string; expression: string }
    | { type: 'freshness'; column: string; warnAfterHours: number; errorAfterHours: number }
    | { type: 'row_count_change'; tolerancePct: number }
    | { type: 'metric_stability'; period: string[]; metrics: string[]; closed: string }
  );

/** Declaration helpers: `test.unique(['activity_date', 'company_id'])`. */
export const test = {
  notNull: (columns: string | string[], o: TestOptions = {}): DataTest => ({ type: 'not_null', columns: [columns].flat(), ...o }),
  unique: (columns: string | string[], o: TestOptions = {}): DataTest => ({ type: 'unique', columns: [columns].flat(), ...o }),
  relationships: (column: string, to: TableDef, field: string, o: TestOptions = {}): DataTest => ({ type: 'relationships', column, to, field, ...o }),
  acceptedValues: (column: string, values: (string | number)[], o: TestOptions = {}): DataTest => ({ type: 'accepted_values', column, values, ...o }),
  acceptedRange: (column: string, range: { min?: number; max?: number }, o: TestOptions = {}): DataTest => ({ type: 'accepted_range', column, ...range, ...o }),
  /** A condition every row must meet (rows where it is false fail; NULL counts as unknown and passes). */
  expression: (name: string, expression: string, o: TestOptions = {}): DataTest => ({ type: 'expression', name, expression, ...o }),
  /** Hours since the newest value of `column` (a timestamp, `_ingested_at` for sources). */
  freshness: (hours: { warnAfterHours: number; errorAfterHours: number }, column = '_ingested_at'): DataTest => ({ type: 'freshness', column, ...hours }),
  /** The table's row count against the previous successful run's, as a percentage change. */
  rowCountChange: (tolerancePct: number, o: TestOptions = {}): DataTest => ({ type: 'row_count_change', tolerancePct, ...o }),
  /**
   * A closed period's metrics do not change when a later run adds only newer data: each run records
   * the `metrics` of every row meeting `closed` (SQL, e.g. `is_partial_period = 0`), by its `period`
   * columns, and compares them with the previous successful run's. Severity `warn` unless told:
   * a late export of older data changes a closed period legitimately, and someone should know.
   */
  metricStability: (spec: { period: string | string[]; metrics: string[]; closed: string }, o: TestOptions = {}): DataTest => ({
    type: 'metric_stability',
    period: [spec.period].flat(),
    metrics: spec.metrics,
    closed: spec.closed,
    severity: 'warn',
    ...o,
  }),
};

/** The stable name of a test within its table (also the last part of `test_id`). */
export function testName(t: DataTest): string {
  const where = t.where ? ` where ${t.where}` : '';
  switch (t.type) {
    case 'not_null':
    case 'unique':
      return `${t.type}(${t.columns.join(', ')})${where}`;
    case 'relationships':
      return `relationships(${t.column} -> ${tableName(t.to)}.${t.field})${where}`;
    case 'accepted_values':
    case 'accepted_range':
      return `${t.type}(${t.column})${where}`;
    case 'expression':
      return `expression(${t.name})${where}`;
    case 'freshness':
      return `freshness(${t.column})`;
    case 'row_count_change':
      return `row_count_change(${t.tolerancePct}%)${where}`;
    case 'metric_stability':
      return `metric_stability(${t.metrics.join(', ')} by ${t.period.join(', ')})${where}`;
  }
}

export interface DataTestResult {
  testId: string;
  table: string;
  stage: TableDef['schema'];
  type: DataTest['type'];
  severity: Severity;
  status: TestStatus;
  failingRows: number | null;
  observedValue: number | null;
  sampleKeys: Record<string, unknown>[];
  message: string;
  /** freshness: the newest value of the column (null: no rows). */
  latest?: Date | null;
  range: DateRange | undefined;
  checkedAt: Date;
  durationMs: number;
}

/** What a set of tests is run over. */
export interface TestScope {
  table: TableDef;
  /** Only rows whose `dateColumn` is in `range` are tested (date-range models); otherwise all rows. */
  dateColumn?: string;
  range?: DateRange;
  now: Date;
  /** The run the tests belong to (the metric-stability test records its values under it). */
  runId?: string;
}

const SAMPLE_SIZE = 5;

export function tableName(t: TableDef): string {
  return `${t.schema}.${t.name}`;
}

/** A column of `table`, or an error: identifiers in generated SQL come only from the catalogue. */
function column(table: TableDef, name: string): string {
  if (!table.columns.some((c) => c.name === name)) throw new Error(`data test on ${tableName(table)}: no column "${name}" in the catalogue`);
  return name;
}

/** Checks a declaration against the catalogue (run by the tests for every declared test). */
export function validateTest(table: TableDef, t: DataTest): void {
  switch (t.type) {
    case 'not_null':
    case 'unique':
      if (t.columns.length === 0) throw new Error(`${tableName(table)}: ${t.type} needs at least one column`);
      t.columns.forEach((c) => column(table, c));
      break;
    case 'relationships':
      column(table, t.column);
      column(t.to, t.field);
      break;
    case 'accepted_values':
      column(table, t.column);
      if (t.values.length === 0) throw new Error(`${tableName(table)}: accepted_values(${t.column}) needs at least one value`);
      break;
    case 'accepted_range':
      column(table, t.column);
      if (t.min === undefined && t.max === undefined) throw new Error(`${tableName(table)}: accepted_range(${t.column}) needs a min or a max`);
      break;
    case 'freshness':
      column(table, t.column);
      if (!(t.warnAfterHours > 0 && t.errorAfterHours >= t.warnAfterHours)) throw new Error(`${tableName(table)}: freshness needs 0 < warnAfterHours <= errorAfterHours`);
      break;
    case 'row_count_change':
      if (!(t.tolerancePct > 0)) throw new Error(`${tableName(table)}: row_count_change needs a positive tolerance`);
      break;
    case 'metric_stability':
      if (t.period.length === 0 || t.metrics.length === 0) throw new Error(`${tableName(table)}: metric_stability needs period and metric columns`);
      [...t.period, ...t.metrics].forEach((c) => column(table, c));
      break;
    case 'expression':
      break;
  }
}

/** The rows that break a rule, as `SELECT <sample columns> FROM <table> t WHERE …`, with its parameters. */
function failingRowsSql(t: DataTest, scope: TestScope): { sql: string; params: SqlParams; sampleColumns: string[] } | undefined {
  const table = scope.table;
  const params: SqlParams = {};
  const conditions: string[] = [];
  if (scope.dateColumn && scope.range) {
    const dateColumn = `t.${column(table, scope.dateColumn)}`;
    const isDate = table.columns.find((c) => c.name === scope.dateColumn)!.type.kind === 'date';
    // bronze tables keep some dates as text: compare as dates (DuckDB refuses to mix the types)
    conditions.push(`${isDate ? dateColumn : `CAST(${dateColumn} AS DATE)`} BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)`);
    params.date_from = scope.range.from;
    params.date_to = scope.range.to;
  }
  if (t.where) conditions.push(`(${t.where})`);
  const keyColumns = (table.key ?? table.columns.slice(0, 2).map((c) => c.name)).map((c) => column(table, c));
  const keys = keyColumns.map((c) => `t.${c}`).join(', ');
  const from = `FROM ${tableName(table)} t`;
  const where = (...more: string[]) => {
    const all = [...conditions, ...more];
    return all.length ? ` WHERE ${all.join(' AND ')}` : '';
  };
  switch (t.type) {
    case 'not_null':
      return { sql: `SELECT ${keys} ${from}${where(`(${t.columns.map((c) => `t.${column(table, c)} IS NULL`).join(' OR ')})`)}`, params, sampleColumns: keyColumns };
    case 'unique': {
      const cols = t.columns.map((c) => `t.${column(table, c)}`).join(', ');
      return { sql: `SELECT ${cols}, COUNT(*) AS copies ${from}${where()} GROUP BY ${cols} HAVING COUNT(*) > 1`, params, sampleColumns: t.columns };
    }
    case 'relationships': {
      const c = `t.${column(table, t.column)}`;
      const parent = `SELECT 1 FROM ${tableName(t.to)} p WHERE p.${column(t.to, t.field)} = ${c}`;
      return { sql: `SELECT ${keys} ${from}${where(`${c} IS NOT NULL`, `NOT EXISTS (${parent})`)}`, params, sampleColumns: keyColumns };
    }
    case 'accepted_values': {
      const placeholders = t.values.map((v, i) => ((params[`v${i}`] = v), `@v${i}`)).join(', ');
      const c = `t.${column(table, t.column)}`;
      return { sql: `SELECT ${keys}, ${c} AS value ${from}${where(`${c} IS NOT NULL`, `${c} NOT IN (${placeholders})`)}`, params, sampleColumns: [...keyColumns, 'value'] };
    }
    case 'accepted_range': {
      const c = `t.${column(table, t.column)}`;
      const outside: string[] = [];
      if (t.min !== undefined) {
        outside.push(`${c} < @min`);
        params.min = t.min;
      }
      if (t.max !== undefined) {
        outside.push(`${c} > @max`);
        params.max = t.max;
      }
      return { sql: `SELECT ${keys}, ${c} AS value ${from}${where(`(${outside.join(' OR ')})`)}`, params, sampleColumns: [...keyColumns, 'value'] };
    }
    case 'expression':
      return { sql: `SELECT ${keys} ${from}${where(`NOT (${t.expression})`)}`, params, sampleColumns: keyColumns };
    case 'freshness':
    case 'row_count_change':
    case 'metric_stability':
      return undefined;
  }
}

/** The query a test runs (freshness: the newest value; row-count change: the count; others: the count of failing rows). */
export function testQuerySql(t: DataTest, scope: TestScope): { sql: string; params: SqlParams } {
  if (t.type === 'freshness') return { sql: freshnessSql(scope.table, t.column), params: {} };
  if (t.type === 'row_count_change') return { sql: rowCountSql(scope.table, t.where), params: {} };
  if (t.type === 'metric_stability') return { sql: changedMetricsSql(), params: { run_id: '@run_id', previous_run_id: '@previous_run_id', test_id_hash: '@test_id_hash' } };
  const failing = failingRowsSql(t, scope)!;
  return { sql: countSql(failing.sql), params: failing.params };
}

const countSql = (failingSql: string) => `SELECT COUNT(*) AS n FROM (${failingSql}) f`;
const freshnessSql = (table: TableDef, columnName: string) => `SELECT MAX(t.${column(table, columnName)}) AS latest FROM ${tableName(table)} t`;
const rowCountSql = (table: TableDef, where?: string) => `SELECT COUNT(*) AS n FROM ${tableName(table)} t${where ? ` WHERE ${where}` : ''}`;

/** Runs tests over a scope, in the given session (inside the stage's transaction: it sees the new rows). */
export async function runDataTests(session: SqlSession, tests: readonly DataTest[], scope: TestScope): Promise<DataTestResult[]> {
  const results: DataTestResult[] = [];
  for (const t of tests) results.push(await runOne(session, t, scope));
  return results;
}

async function runOne(session: SqlSession, t: DataTest, scope: TestScope): Promise<DataTestResult> {
  const started = Date.now();
  const severity = t.severity ?? 'error';
  const tested = scope.dateColumn && scope.range && t.type !== 'freshness' && t.type !== 'row_count_change' && t.type !== 'metric_stability' ? scope.range : undefined;
  const base = { testId: `${tableName(scope.table)}:${testName(t)}`, table: tableName(scope.table), stage: scope.table.schema, type: t.type, range: tested, checkedAt: scope.now };
  const done = (r: Pick<DataTestResult, 'status' | 'failingRows' | 'observedValue' | 'sampleKeys' | 'message'> & { severity?: Severity }): DataTestResult => ({
    ...base,
    severity,
    ...r,
    durationMs: Date.now() - started,
  });

  if (t.type === 'freshness') {
    const f = await freshness(session, scope.table, t.column, scope.now);
    const status: TestStatus = f.lagHours === null || f.lagHours > t.errorAfterHours ? 'error' : f.lagHours > t.warnAfterHours ? 'warn' : 'pass';
    const message =
      f.latest === null
        ? `no rows yet in ${base.table}`
        : `newest ${t.column} ${f.latest.toISOString()} is ${f.lagHours!.toFixed(1)} h old (warn after ${t.warnAfterHours} h, error after ${t.errorAfterHours} h)`;
    // the thresholds decide the status; severity reports the worst it can be
    return { ...done({ status, severity: status === 'pass' ? 'error' : status, failingRows: null, observedValue: f.lagHours, sampleKeys: [], message }), latest: f.latest };
  }

  if (t.type === 'row_count_change') {
    const [now] = await session.query<{ n: number }>(rowCountSql(scope.table, t.where));
    const count = Number(now?.n ?? 0);
    const previous = await previousRowCount(session, base.testId);
    if (previous === undefined || previous === 0) {
      return done({ status: 'pass', failingRows: 0, observedValue: count, sampleKeys: [], message: `${count} rows; no earlier count to compare with` });
    }
    const changePct = (100 * (count - previous)) / previous;
    const broke = Math.abs(changePct) > t.tolerancePct;
    const message = `${count} rows, ${changePct >= 0 ? '+' : ''}${changePct.toFixed(1)}% against ${previous} in the previous successful run (tolerance ±${t.tolerancePct}%)`;
    return done({ status: broke ? severity : 'pass', failingRows: broke ? Math.abs(count - previous) : 0, observedValue: count, sampleKeys: [], message });
  }

  if (t.type === 'metric_stability') return done(await metricStability(session, t, scope, base.testId, severity));

  const failing = failingRowsSql(t, scope)!;
  const [counted] = await session.query<{ n: number }>(countSql(failing.sql), failing.params);
  const failingRows = Number(counted?.n ?? 0);
  if (failingRows === 0) return done({ status: 'pass', failingRows: 0, observedValue: null, sampleKeys: [], message: 'no failing rows' });

  // The first few failing keys, in key order; ROW_NUMBER is the portable LIMIT (T-SQL has TOP, DuckDB LIMIT).
  const order = failing.sampleColumns.map((c) => `f.${c}`).join(', ');
  const sample = await session.query<Record<string, unknown>>(
    `SELECT * FROM (SELECT f.*, ROW_NUMBER() OVER (ORDER BY ${order}) AS sample_rank FROM (${failing.sql}) f) s WHERE sample_rank <= ${SAMPLE_SIZE}`,
    failing.params,
  );
  const sampleKeys = sample
    .sort((a, b) => Number(a.sample_rank) - Number(b.sample_rank))
    .map(({ sample_rank: _rank, ...rest }) => rest);
  const what = t.type === 'unique' ? 'duplicated key value(s)' : 'failing row(s)';
  return done({ status: severity, failingRows, observedValue: null, sampleKeys, message: `${failingRows} ${what}${tested ? ` in ${tested.from}..${tested.to}` : ''}` });
}

/** The newest value of a timestamp column and its age in hours at `now` (null: no rows). */
async function freshness(session: SqlSession, table: TableDef, columnName: string, now: Date): Promise<{ latest: Date | null; lagHours: number | null }> {
  const [row] = await session.query<{ latest: Date | string | null }>(freshnessSql(table, columnName));
  if (!row?.latest) return { latest: null, lagHours: null };
  const latest = row.latest instanceof Date ? row.latest : new Date(`${String(row.latest).replace(' ', 'T')}Z`);
  return { latest, lagHours: Math.max(0, (now.getTime() - latest.getTime()) / 3_600_000) };
}

async function previousRowCount(session: SqlSession, testId: string): Promise<number | undefined> {
  // the latest successful run by its real start time (checked_at follows the pipeline's clock)
  const ofSucceededRuns = `FROM ops.data_test_results r JOIN ops.pipeline_runs p ON p.run_id = r.run_id
     WHERE r.test_id = @test_id AND p.status = 'succeeded' AND r.observed_value IS NOT NULL`;
  const rows = await session.query<{ observed_value: number | null }>(
    `SELECT r.observed_value ${ofSucceededRuns}
       AND p.started_at = (SELECT MAX(p.started_at) ${ofSucceededRuns})`,
    { test_id: testId },
  );
  return rows[0]?.observed_value == null ? undefined : Number(rows[0].observed_value);
}

// ---- metric stability ---------------------------------------------------------------------------

type MetricStabilityTest = Extract<DataTest, { type: 'metric_stability' }>;

/** How many changed values a message lists. */
const CHANGES_LISTED = 5;

/** This run's values of the closed periods into ops.metric_snapshots: one row per period and metric. */
function snapshotSql(t: MetricStabilityTest, table: TableDef): { sql: string; params: SqlParams } {
  const period = t.period.map((c) => `t.${column(table, c)}`);
  // CONCAT turns dates into YYYY-MM-DD and numbers into digits on both engines
  const periodKey = period.length === 1 ? `CONCAT(${period[0]}, '')` : `CONCAT(${period.join(", '|', ")})`;
  const params: SqlParams = {};
  const selects = t.metrics.map((m, i) => {
    params[`metric${i}`] = m;
    return `SELECT @run_id, @test_id_hash, ${periodKey}, @metric${i}, CAST(t.${column(table, m)} AS DECIMAL(38, 6)) FROM ${tableName(table)} t WHERE (${t.closed})`;
  });
  return { sql: `INSERT INTO ops.metric_snapshots (run_id, test_id_hash, period_key, metric, metric_value)\n${selects.join('\nUNION ALL\n')}`, params };
}

/** The previous snapshot's values that this run's do not repeat (changed, or the period no longer closed). */
function changedMetricsSql(): string {
  return `SELECT prev.period_key, prev.metric, prev.metric_value AS previous_value, cur.metric_value AS current_value
FROM ops.metric_snapshots prev
LEFT JOIN ops.metric_snapshots cur
  ON cur.run_id = @run_id AND cur.test_id_hash = prev.test_id_hash AND cur.period_key = prev.period_key AND cur.metric = prev.metric
WHERE prev.run_id = @previous_run_id AND prev.test_id_hash = @test_id_hash
  AND (cur.period_key IS NULL
    OR (cur.metric_value IS NULL AND prev.metric_value IS NOT NULL)
    OR (cur.metric_value IS NOT NULL AND prev.metric_value IS NULL)
    OR cur.metric_value <> prev.metric_value)`;
}

const decimalText = (v: unknown): string => (v === null || v === undefined ? 'none' : String(Number(v)));

/**
 * Records this run's closed-period values, compares them with those of the latest successful run
 * that recorded any, and keeps only those two runs' values (so the table stays small).
 */
async function metricStability(
  session: SqlSession,
  t: MetricStabilityTest,
  scope: TestScope,
  testId: string,
  severity: Severity,
): Promise<Pick<DataTestResult, 'status' | 'failingRows' | 'observedValue' | 'sampleKeys' | 'message'>> {
  if (!scope.runId) return { status: 'pass', failingRows: 0, observedValue: null, sampleKeys: [], message: 'not run: no pipeline run to record the values under' };
  const ids = { run_id: scope.runId, test_id_hash: sha256Hex(testId) };
  const snapshot = snapshotSql(t, scope.table);
  const recorded = await session.exec(snapshot.sql, { ...ids, ...snapshot.params });
  const runs = await session.query<{ run_id: string; started_at: Date | string }>(
    `SELECT s.run_id, MAX(p.started_at) AS started_at FROM ops.metric_snapshots s JOIN ops.pipeline_runs p ON p.run_id = s.run_id
     WHERE s.test_id_hash = @test_id_hash AND s.run_id <> @run_id AND p.status = 'succeeded' GROUP BY s.run_id`,
    ids,
  );
  const previous = runs.sort((a, b) => new Date(b.started_at).getTime() - new Date(a.started_at).getTime())[0]?.run_id;
  await session.exec(
    `DELETE FROM ops.metric_snapshots WHERE test_id_hash = @test_id_hash AND run_id <> @run_id${previous ? ' AND run_id <> @previous_run_id' : ''}`,
    previous ? { ...ids, previous_run_id: previous } : ids,
  );
  if (!previous) return { status: 'pass', failingRows: 0, observedValue: recorded, sampleKeys: [], message: `${recorded} closed-period values recorded; no earlier run to compare with` };

  const changed = await session.query<{ period_key: string; metric: string; previous_value: unknown; current_value: unknown }>(changedMetricsSql(), { ...ids, previous_run_id: previous });
  if (changed.length === 0) return { status: 'pass', failingRows: 0, observedValue: recorded, sampleKeys: [], message: `${recorded} closed-period values, as in run ${previous}` };
  changed.sort((a, b) => (a.period_key === b.period_key ? a.metric.localeCompare(b.metric) : a.period_key < b.period_key ? -1 : 1));
  const listed = changed.slice(0, CHANGES_LISTED).map((c) => `${c.metric} for ${c.period_key}: ${decimalText(c.previous_value)} → ${decimalText(c.current_value)}`);
  return {
    status: severity,
    failingRows: changed.length,
    observedValue: recorded,
    sampleKeys: changed.slice(0, CHANGES_LISTED).map((c) => ({ period: c.period_key, metric: c.metric, previous: decimalText(c.previous_value), current: decimalText(c.current_value) })),
    message: `${changed.length} closed-period value(s) changed since run ${previous}: ${listed.join('; ')}${changed.length > CHANGES_LISTED ? '; …' : ''}`,
  };
}

/** The error-severity failures among results: non-empty means "do not publish". */
export function blockingFailures(results: readonly DataTestResult[]): DataTestResult[] {
  return results.filter((r) => r.status === 'error');
}

export class DataTestFailure extends Error {
  /** The run whose publication the failures stopped (set by the transform). */
  runId?: string;

  constructor(readonly failures: DataTestResult[]) {
    super(`${failures.length} data test(s) failed with severity error: ${failures.map((f) => `${f.testId}: ${f.message}`).join('; ')}`);
    this.name = 'DataTestFailure';
  }
}
