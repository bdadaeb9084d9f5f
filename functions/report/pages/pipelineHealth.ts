/**
 * Pipeline health: the recent runs, the latest result of every data test, freshness per source,
 * what was quarantined per source and the schema drift seen, read from the `ops` tables (the same
 * records `npm run ops` and the ops HTTP functions show). Its "as of" is the latest run's time;
 * freshness is measured at that time, not at the wall clock, so the same warehouse gives the same
 * page.
 */
import { addDays, dateRange, toIsoDate } from '../../core/dates.js';
import { USAGE_SOURCE } from '../../domains/company_activity/sources/productUsage/contract.js';
import { BRONZE_SOURCES, UPLOAD_SOURCES } from '../../domains/registry.js';
import { sourceFreshness } from '../../quality/freshness.js';
import { fmt, topRows, type Block, type ReportPage } from '../page.js';

const RUN_DAYS = 30;
const RECENT_RUNS = 15;
const TEST_ROWS = 15;
const DRIFT_ROWS = 10;
const ERROR_CHARS = 160;

const RUN_STATUSES = [
  { status: 'succeeded', color: 'green' },
  { status: 'failed', color: 'vermillion' },
  { status: 'skipped', color: 'grey' },
  { status: 'running', color: 'orange' },
] as const;
const TEST_STATUSES = [
  { status: 'pass', color: 'green' },
  { status: 'warn', color: 'orange' },
  { status: 'error', color: 'vermillion' },
] as const;

/** The latest result of each data test (a test is its `test_id`, stable across runs). */
const LATEST_TESTS = `SELECT test_id, table_name, stage, test_type, severity, status, failing_rows, message, checked_at
  FROM (SELECT test_id, table_name, stage, test_type, severity, status, failing_rows, message, checked_at,
               ROW_NUMBER() OVER (PARTITION BY test_id_hash ORDER BY checked_at DESC, run_id DESC) AS latest_rank
        FROM ops.data_test_results) results
  WHERE latest_rank = 1`;

const short = (text: string | null) => (text && text.length > ERROR_CHARS ? `${text.slice(0, ERROR_CHARS - 1)}…` : text);
const n = (v: unknown) => Number(v ?? 0);
const plural = (count: number, noun: string) => `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;

export const pipelineHealthPage: ReportPage = {
  id: 'pipeline-health',
  title: 'Pipeline health',
  order: 90,
  async build(source) {
    const wh = source.warehouse;
    const [span] = await wh.query<{ first_started: Date | null; last_started: Date | null; last_finished: Date | null }>(
      `SELECT MIN(started_at) AS first_started, MAX(started_at) AS last_started, MAX(finished_at) AS last_finished FROM ops.pipeline_runs`,
    );
    if (!span?.last_started || !span.first_started) return undefined;
    const asOf = span.last_finished && span.last_finished > span.last_started ? span.last_finished : span.last_started;
    const lastDay = toIsoDate(asOf);
    const sinceDay = addDays(lastDay, -(RUN_DAYS - 1));
    const since = new Date(`${sinceDay}T00:00:00Z`);

    // ---- runs ----
    const perDay = await wh.query<{ run_date: string; status: string; runs: number }>(
      `SELECT CAST(started_at AS DATE) AS run_date, status, COUNT(*) AS runs FROM ops.pipeline_runs WHERE started_at >= @since GROUP BY CAST(started_at AS DATE), status`,
      { since },
    );
    const byKind = await wh.query<{ kind: string; runs: number; succeeded: number; failed: number; skipped: number; last_started: Date }>(
      `SELECT kind, COUNT(*) AS runs,
              SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
              SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
              SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END) AS skipped,
              MAX(started_at) AS last_started
       FROM ops.pipeline_runs WHERE started_at >= @since GROUP BY kind ORDER BY kind`,
      { since },
    );
    const recent = await topRows<{ started_at: Date; kind: string; trigger_name: string; status: string; duration_ms: number | null; rows_in: number | null; rows_out: number | null; rows_rejected: number | null; error: string | null }>(
      wh,
      `SELECT run_id, started_at, kind, trigger_name, status, duration_ms, rows_in, rows_out, rows_rejected, error FROM ops.pipeline_runs`,
      'started_at DESC, run_id',
      RECENT_RUNS,
    );
    const days = dateRange(sinceDay, lastDay);
    const runsOn = (day: string, status: string) => n(perDay.find((r) => r.run_date === day && r.status === status)?.runs);
    const statuses = RUN_STATUSES.filter((s) => perDay.some((r) => r.status === s.status));
    const runs30 = perDay.reduce((t, r) => t + n(r.runs), 0);
    const failed30 = perDay.filter((r) => r.status === 'failed').reduce((t, r) => t + n(r.runs), 0);

    // ---- data tests ----
    const testCounts = await wh.query<{ stage: string; status: string; tests: number }>(`SELECT stage, status, COUNT(*) AS tests FROM (${LATEST_TESTS}) latest GROUP BY stage, status`);
    const problems = await topRows<{ test_id: string; status: string; failing_rows: number | null; message: string | null; checked_at: Date }>(
      wh,
      LATEST_TESTS,
      `CASE status WHEN 'error' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, checked_at DESC, test_id`,
      TEST_ROWS,
    );
    const stages = ['bronze', 'silver', 'gold', ...new Set(testCounts.map((t) => t.stage).filter((s) => !['bronze', 'silver', 'gold'].includes(s)))].filter((s) => testCounts.some((t) => t.stage === s));
    const testsAt = (stage: string, status: string) => n(testCounts.find((t) => t.stage === stage && t.status === status)?.tests);
    const testsWith = (status: string) => testCounts.filter((t) => t.status === status).reduce((t, r) => t + n(r.tests), 0);

    // ---- freshness, measured at the latest run ----
    const freshness = await sourceFreshness({ warehouse: wh, now: () => asOf });
    // sources not expected yet (no delivery, and their domain unused or the feed optional)
    const notExpected = BRONZE_SOURCES.map((s) => s.name).filter((name) => !freshness.some((f) => f.source === name));

    // ---- quarantine per source ----
    const uploads = await wh.query<{ source: string; files: number; rejected_files: number; rows_total: number; rows_accepted: number; rows_quarantined: number }>(
      `SELECT source, COUNT(*) AS files,
              SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected_files,
              SUM(rows_total) AS rows_total, SUM(rows_accepted) AS rows_accepted, SUM(rows_quarantined) AS rows_quarantined
       FROM ops.file_ingests WHERE status <> 'duplicate' GROUP BY source ORDER BY source`,
    );
    // a pulled date's latest pull replaced its earlier ones (bronze and quarantine alike): count that one
    const [pulls] = await wh.query<{ dates: number; rows_total: number | null; rows_accepted: number | null; rows_quarantined: number | null }>(
      `SELECT COUNT(*) AS dates, SUM(rows_in) AS rows_total, SUM(rows_out) AS rows_accepted, SUM(rows_rejected) AS rows_quarantined
       FROM (SELECT rows_in, rows_out, rows_rejected, ROW_NUMBER() OVER (PARTITION BY step_name ORDER BY started_at DESC, run_id DESC) AS pull_rank
             FROM ops.run_steps WHERE step_name LIKE 'pull %' AND status = 'succeeded') pulled
       WHERE pull_rank = 1`,
    );
    const uploadNames = new Set(UPLOAD_SOURCES.map((s) => s.name));
    const quarantineRows = [
      ...uploads.map((u) => ({ ...u, arrives: uploadNames.has(u.source) ? 'CSV uploads' : 'uploads to a folder no source owns', units: plural(n(u.files), 'file') })),
      ...(n(pulls?.dates) > 0 ? [{ source: USAGE_SOURCE, arrives: 'API pulls', units: plural(n(pulls?.dates), 'date'), rejected_files: null, rows_total: pulls?.rows_total, rows_accepted: pulls?.rows_accepted, rows_quarantined: pulls?.rows_quarantined }] : []),
    ];
    const quarantined = quarantineRows.reduce((t, r) => t + n(r.rows_quarantined), 0);

    // ---- schema drift ----
    const driftSummary = await wh.query<{ source: string; drift_kind: string; findings: number; files: number; last_seen: Date }>(
      `SELECT source, drift_kind, COUNT(*) AS findings, COUNT(DISTINCT source_file_hash) AS files, MAX(detected_at) AS last_seen FROM ops.schema_drift GROUP BY source, drift_kind ORDER BY source, drift_kind`,
    );
    const drift = await topRows<{ detected_at: Date; source: string; source_file: string; drift_kind: string; column_name: string; expected: string | null; observed: string | null }>(
      wh,
      `SELECT detected_at, source, source_file, drift_kind, column_name, expected, observed, run_id FROM ops.schema_drift`,
      'detected_at DESC, source, source_file, drift_kind, column_name, run_id',
      DRIFT_ROWS,
    );

    const blocks: Block[] = [
      {
        kind: 'figures',
        figures: [
          { id: 'pipeline.runs', label: `Runs, last ${RUN_DAYS} days`, value: runs30, format: fmt.int, note: `${sinceDay} to ${lastDay}` },
          { id: 'pipeline.failed_runs', label: `Failed runs, last ${RUN_DAYS} days`, value: failed30, format: fmt.int },
          { id: 'pipeline.tests_error', label: 'Data tests failing', value: testsWith('error'), format: fmt.int, note: `latest result of each test; ${testsWith('warn')} warning` },
          { id: 'pipeline.sources_late', label: 'Sources late', value: freshness.filter((f) => f.status !== 'pass').length, format: fmt.int, note: `of ${freshness.length} expected, at the latest run${notExpected.length ? `; ${notExpected.length} not in use yet` : ''}` },
          { id: 'pipeline.rows_quarantined', label: 'Rows quarantined', value: quarantined, format: fmt.int, note: 'all files and pulled dates' },
        ],
      },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Runs per day by status',
          description: `Pipeline runs per day, stacked by status, ${sinceDay} to ${lastDay}`,
          source: 'ops.pipeline_runs',
          x: { label: 'Date (UTC)', categories: days },
          y: { label: 'Runs', unit: 'runs', format: fmt.int },
          stacked: true,
          series: statuses.map((s) => ({ name: s.status, color: s.color, values: days.map((d) => runsOn(d, s.status)) })),
        },
        table: {
          title: `Runs by kind, last ${RUN_DAYS} days`,
          source: 'ops.pipeline_runs',
          columns: [
            { key: 'kind', label: 'Kind', format: fmt.text },
            { key: 'runs', label: 'Runs', format: fmt.int },
            { key: 'succeeded', label: 'Succeeded', format: fmt.int },
            { key: 'failed', label: 'Failed', format: fmt.int },
            { key: 'skipped', label: 'Skipped', format: fmt.int },
            { key: 'last_started', label: 'Latest', format: fmt.datetime },
          ],
          rows: byKind,
        },
      },
      {
        kind: 'table',
        table: {
          title: 'Recent runs',
          source: 'ops.pipeline_runs',
          noun: 'earlier runs',
          columns: [
            { key: 'started_at', label: 'Started', format: fmt.datetime },
            { key: 'kind', label: 'Kind', format: fmt.text },
            { key: 'trigger_name', label: 'Trigger', format: fmt.text },
            { key: 'status', label: 'Status', format: fmt.status },
            { key: 'duration_s', label: 'Duration', format: fmt.number(1, 's') },
            { key: 'rows_in', label: 'Rows in', format: fmt.int },
            { key: 'rows_out', label: 'Rows out', format: fmt.int },
            { key: 'rows_rejected', label: 'Rejected', format: fmt.int },
            { key: 'error', label: 'Error', format: fmt.text },
          ],
          rows: recent.rows.map((r) => ({ ...r, duration_s: r.duration_ms === null ? null : n(r.duration_ms) / 1000, error: short(r.error) })),
          total: recent.total,
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Data tests by stage, latest results',
          description: 'The latest result of every data test, per stage, stacked by status',
          source: 'ops.data_test_results',
          x: { label: 'Stage', categories: stages },
          y: { label: 'Tests', unit: 'tests', format: fmt.int },
          stacked: true,
          series: TEST_STATUSES.map((s) => ({ name: s.status, color: s.color, values: stages.map((st) => testsAt(st, s.status)) })),
        },
        table: {
          title: 'Data tests by stage',
          source: 'ops.data_test_results',
          columns: [
            { key: 'stage', label: 'Stage', format: fmt.text },
            ...TEST_STATUSES.map((s) => ({ key: s.status, label: s.status, format: fmt.int })),
          ],
          rows: stages.map((st) => ({ stage: st, ...Object.fromEntries(TEST_STATUSES.map((s): [string, number] => [s.status, testsAt(st, s.status)])) })),
          empty: 'No data test has run yet.',
        },
      },
      {
        kind: 'table',
        table: {
          title: 'Data tests, latest result each, problems first',
          source: 'ops.data_test_results',
          noun: 'tests',
          columns: [
            { key: 'test_id', label: 'Test', format: fmt.text },
            { key: 'status', label: 'Status', format: fmt.status },
            { key: 'failing_rows', label: 'Failing rows', format: fmt.int },
            { key: 'message', label: 'Message', format: fmt.text },
            { key: 'checked_at', label: 'Checked', format: fmt.datetime },
          ],
          rows: problems.rows.map((r) => ({ ...r, message: short(r.message) })),
          total: problems.total,
          maxRows: TEST_ROWS,
          empty: 'No data test has run yet.',
        },
      },
      {
        kind: 'table',
        table: {
          title: `Freshness per source, at ${asOf.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
          source: `bronze tables (_ingested_at) against each source contract's limits${notExpected.length ? `; not in use yet (no delivery, not expected): ${notExpected.join(', ')}` : ''}`,
          columns: [
            { key: 'source', label: 'Source', format: fmt.text },
            { key: 'status', label: 'Status', format: fmt.status },
            { key: 'latestIngestedAt', label: 'Latest delivery', format: fmt.datetime },
            { key: 'lagHours', label: 'Hours since', format: fmt.number(1, 'h') },
            { key: 'warnAfterHours', label: 'Warn after', format: fmt.number(0, 'h') },
            { key: 'errorAfterHours', label: 'Error after', format: fmt.number(0, 'h') },
            { key: 'latestBusinessDate', label: 'Latest business date', format: fmt.date },
          ],
          rows: freshness.map((f) => ({ ...f })),
        },
      },
      {
        kind: 'table',
        table: {
          title: 'Quarantine per source',
          source: 'ops.file_ingests (uploads), ops.run_steps (the latest pull of each date)',
          columns: [
            { key: 'source', label: 'Source', format: fmt.text },
            { key: 'arrives', label: 'Arrives as', format: fmt.text },
            { key: 'units', label: 'Files or dates', format: fmt.text },
            { key: 'rows_total', label: 'Rows', format: fmt.int },
            { key: 'rows_accepted', label: 'Landed', format: fmt.int },
            { key: 'rows_quarantined', label: 'Quarantined', format: fmt.int },
            { key: 'rejected_files', label: 'Files rejected whole', format: fmt.int },
          ],
          rows: quarantineRows,
          empty: 'Nothing has arrived yet.',
        },
      },
      {
        kind: 'table',
        table: {
          title: 'Schema drift by source and kind',
          source: 'ops.schema_drift',
          columns: [
            { key: 'source', label: 'Source', format: fmt.text },
            { key: 'drift_kind', label: 'Kind', format: fmt.text },
            { key: 'findings', label: 'Findings', format: fmt.int },
            { key: 'files', label: 'Files', format: fmt.int },
            { key: 'last_seen', label: 'Last seen', format: fmt.datetime },
          ],
          rows: driftSummary,
          empty: 'No schema drift seen.',
        },
      },
      ...(drift.total > 0
        ? [
            {
              kind: 'table' as const,
              table: {
                title: 'Latest schema drift findings',
                source: 'ops.schema_drift',
                noun: 'earlier findings',
                columns: [
                  { key: 'detected_at', label: 'Seen', format: fmt.datetime },
                  { key: 'source', label: 'Source', format: fmt.text },
                  { key: 'source_file', label: 'File', format: fmt.text },
                  { key: 'drift_kind', label: 'Kind', format: fmt.text },
                  { key: 'column_name', label: 'Column', format: fmt.text },
                  { key: 'expected', label: 'Declared', format: fmt.text },
                  { key: 'observed', label: 'Seen instead', format: fmt.text },
                ],
                rows: drift.rows,
                total: drift.total,
                maxRows: DRIFT_ROWS,
              },
            },
          ]
        : []),
    ];
    return {
      asOf,
      range: { from: toIsoDate(span.first_started), to: lastDay },
      intro: 'How the pipeline has run: its runs, the data tests, whether each source still arrives, what was set aside and why.',
      blocks,
    };
  },
};
