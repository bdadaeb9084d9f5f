/**
 * The end-of-run summaries of the local commands (`npm start`, `npm run upload`): what each file
 * became (rows total = landed + quarantined, and where the bad rows are), what the transform
 * rebuilt or could not, the data tests, and each domain's headline figures. Read from the `ops`
 * tables and the domains' own tables, so they say what the warehouse holds, not what the command
 * believes it did.
 */
import type { Settings } from '../core/settings.js';
import type { Domain } from '../domains/domain.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export const count = (v: number | null | undefined): string => (v ?? 0).toLocaleString('en-US');

export function printLine(label: string, value: string): void {
  console.log(`  ${label.padEnd(14)} ${value}`);
}

interface FileRow {
  landing_file: string;
  source: string;
  status: string;
  rows_total: number;
  rows_accepted: number;
  rows_quarantined: number;
  quarantine_file: string | null;
  reason: string | null;
  run_id: string;
}

/** Every file ingested since `since` (optionally of one source): its accounting and where its bad rows went. */
export async function printFileAccounting(wh: Warehouse, since: Date, source?: string): Promise<FileRow[]> {
  const files = await wh.query<FileRow>(
    `SELECT landing_file, source, status, rows_total, rows_accepted, rows_quarantined, quarantine_file, reason, run_id
     FROM ops.file_ingests WHERE ingested_at >= @since${source ? ' AND source = @source' : ''} ORDER BY ingested_at, landing_file`,
    { since, ...(source ? { source } : {}) },
  );
  for (const f of files) {
    printLine('file', `${f.landing_file} (${f.source})`);
    if (f.status === 'duplicate') {
      printLine('', `${f.reason ?? 'same bytes as a file already ingested'}: nothing new`);
      continue;
    }
    printLine('rows', `${count(f.rows_total)} total = ${count(f.rows_accepted)} landed in bronze + ${count(f.rows_quarantined)} quarantined`);
    if (f.status === 'rejected') printLine('rejected', `the whole file: ${f.reason ?? ''}${f.quarantine_file ? ` (copy in ${f.quarantine_file})` : ''}`);
    else if (f.quarantine_file) printLine('bad rows', `${f.quarantine_file} (each with file, line, field and reason)`);
  }
  const drift = await wh.query<{ source_file: string; drift_kind: string; column_name: string; detail: string | null }>(
    `SELECT source_file, drift_kind, column_name, detail FROM ops.schema_drift WHERE detected_at >= @since${source ? ' AND source = @source' : ''} ORDER BY source_file, drift_kind, column_name`,
    { since, ...(source ? { source } : {}) },
  );
  for (const d of drift) printLine('schema drift', `${d.source_file}: ${d.drift_kind} "${d.column_name}" (ops.schema_drift)`);
  return files;
}

interface RunDetail {
  models?: { name: string; rows: number }[];
  failedModels?: { name: string; error: string }[];
  skippedModels?: { name: string; because: string }[];
  tests?: { passed: number; warned: number; failed: number };
}

/** The transform runs since `since`: models rebuilt, failed and skipped (with the failure that skipped them), data tests. */
export async function printTransformAccounting(wh: Warehouse, since: Date): Promise<{ failed: number }> {
  const runs = await wh.query<{ status: string; rows_in: number | null; detail: string | null; error: string | null }>(
    `SELECT status, rows_in, detail, error FROM ops.pipeline_runs WHERE kind = 'transform' AND started_at >= @since AND status <> 'skipped' ORDER BY started_at`,
    { since },
  );
  if (runs.length === 0) {
    printLine('transform', 'nothing to do');
    return { failed: 0 };
  }
  const built = new Map<string, number>();
  const failed = new Map<string, string>();
  const skipped = new Map<string, string>();
  const tests = { passed: 0, warned: 0, failed: 0 };
  let loaded = 0;
  for (const r of runs) {
    loaded += r.rows_in ?? 0;
    const d = r.detail ? (JSON.parse(r.detail) as RunDetail) : {};
    for (const m of d.models ?? []) built.set(m.name, (built.get(m.name) ?? 0) + m.rows);
    for (const m of d.failedModels ?? []) failed.set(m.name, m.error);
    for (const m of d.skippedModels ?? []) skipped.set(m.name, m.because);
    tests.passed += d.tests?.passed ?? 0;
    tests.warned += d.tests?.warned ?? 0;
    tests.failed += d.tests?.failed ?? 0;
    if (r.status === 'failed' && !d.failedModels?.length && r.error) failed.set('(run)', r.error);
  }
  printLine('transform', `${count(loaded)} bronze rows loaded; ${built.size} model(s) rebuilt: ${[...built].map(([m, rows]) => `${m} (${count(rows)} rows)`).join(', ') || '-'}`);
  for (const [m, error] of failed) printLine('FAILED', `${m}: ${error}`);
  for (const [m, because] of skipped) printLine('skipped', `${m}: not rebuilt because ${because} failed`);
  printLine('data tests', `${count(tests.passed)} passed, ${count(tests.warned)} warned, ${count(tests.failed)} failed (ops.data_test_results; npm run ops -- runs)`);
  return { failed: failed.size };
}

/** A domain's headline figures, under its title. */
export async function printDomainHeadlines(domain: Domain, wh: Warehouse, settings: Settings): Promise<void> {
  const lines = await domain.headlines(wh, settings);
  if (lines.length === 0) return;
  console.log(`\n  ${domain.title}`);
  for (const l of lines) printLine(l.label, l.value);
}
