/**
 * `npm start`: one full pass of the pipeline on the embedded default — no cloud, no credentials.
 * Starts Azurite and the local usage API, uploads a deterministic CRM sample, fires the same
 * handlers the Functions host would (blob event, timer, queue), and prints a summary.
 * State lives in PIPELINE_LOCAL_DIR (default `.local/`): a second run is incremental.
 *
 *   npm start -- --companies 200 --days 60 --seed 7
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { addDays, toIsoDate } from '../core/dates.js';
import { consoleLog, type Log } from '../core/log.js';
import { container } from '../storage/blobStore.js';
import { crmSampleCsv } from './sampleData.js';
import { LocalHost } from './localHost.js';
import { writeLocalApiProfile } from './localApiProfile.js';
import { startUsageApiServer } from './usageApiServer.js';

const { values: args } = parseArgs({
  options: {
    companies: { type: 'string', default: '50' },
    days: { type: 'string', default: '30' },
    seed: { type: 'string', default: '42' },
    quiet: { type: 'boolean', default: false },
  },
});

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const companies = positive('companies', args.companies);
  const days = positive('days', args.days);
  const seed = positive('seed', args.seed);
  const dir = path.resolve(process.env.PIPELINE_LOCAL_DIR ?? '.local');
  const started = new Date();
  const yesterday = addDays(toIsoDate(started), -1);
  const verbose = consoleLog('  ');
  const log: Log = args.quiet ? { info: () => {}, warn: (m, p) => verbose.warn(m, p), error: (m, p) => verbose.error(m, p) } : verbose;

  console.log(`Pipeline, local run: ${companies} companies × ${days} days, seed ${seed}; state in ${dir}`);
  const token = randomBytes(16).toString('hex'); // a throwaway token for the local API only
  const profile = { seed, companies, badRecordRate: 0.002 };
  const api = await startUsageApiServer({ ...profile, token });
  await writeLocalApiProfile(dir, profile); // so `npm run ops -- backfill` asks the same stand-in API
  const host = await LocalHost.start({
    dir,
    log,
    env: {
      USAGE_API_BASE_URL: api.url,
      USAGE_API_TOKEN: token,
      USAGE_START_DATE: process.env.USAGE_START_DATE ?? addDays(yesterday, -(days - 1)),
      USAGE_MAX_DATES_PER_RUN: process.env.USAGE_MAX_DATES_PER_RUN ?? String(Math.max(days, 31)),
    },
  });
  try {
    console.log('\n[1/4] CRM upload → landing, BlobCreated event → upload ingest');
    const sample = crmSampleCsv({ seed, companies, days, endDate: yesterday });
    const crmPath = `crm_company_daily/crm_export_seed${seed}_${companies}x${days}.csv`;
    await host.upload(crmPath, sample.csv);
    // a copy on disk too: a file to upload to a deployed pipeline (README, "The first upload")
    await mkdir(path.join(dir, 'samples'), { recursive: true });
    await writeFile(path.join(dir, 'samples', path.basename(crmPath)), sample.csv);
    await host.drainQueue('landingEvents');

    console.log('\n[2/4] Timer → usage ingest (API → bronze, one blob per activity date)');
    await host.fireUsageTimer();

    console.log('\n[3/4] Queue → transform (bronze → silver → gold)');
    const transformed = await host.drainQueue('transformRequests');
    if (transformed.failures > 0) throw new Error(`the transform failed ${transformed.failures} time(s); see the errors above and ops.pipeline_runs`);

    console.log('\n[4/4] Summary');
    await printSummary(host, started);
  } finally {
    await host.stop();
    await api.stop();
  }
}

async function printSummary(host: LocalHost, since: Date): Promise<void> {
  const wh = host.ctx.warehouse;
  type Totals = { runs: number; failed: number; rows_in: number | null; rows_out: number | null; rows_rejected: number | null };
  const totals = async (kind: string) =>
    (
      await wh.query<Totals>(
        `SELECT COUNT(*) AS runs, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
                SUM(rows_in) AS rows_in, SUM(rows_out) AS rows_out, SUM(rows_rejected) AS rows_rejected
         FROM ops.pipeline_runs WHERE kind = @kind AND started_at >= @since`,
        { kind, since },
      )
    )[0]!;
  const upload = await totals('upload_ingest');
  const usage = await totals('usage_ingest');
  const transform = await totals('transform');
  const files = await wh.query<{ landing_file: string; status: string; quarantine_file: string | null; reason: string | null }>(
    `SELECT landing_file, status, quarantine_file, reason FROM ops.file_ingests WHERE ingested_at >= @since`,
    { since },
  );
  const usageRejects: string[] = [];
  for await (const b of container(host.storage, 'quarantine').listBlobsFlat({ prefix: 'product_usage/' })) {
    if ((b.properties.lastModified ?? since) >= since) usageRejects.push(`quarantine/${b.name}`);
  }
  const [gold] = await wh.query<{ rows: number; companies: number; first_date: string | null; last_date: string | null }>(
    `SELECT COUNT(*) AS rows, COUNT(DISTINCT company_id) AS companies, MIN(activity_date) AS first_date, MAX(activity_date) AS last_date FROM gold.fact_company_activity_daily`,
  );
  const atRisk = await wh.query<{ company_id: string }>(
    `SELECT company_id FROM gold.fact_company_activity_daily
     WHERE is_churn_risk AND activity_date = (SELECT MAX(activity_date) FROM gold.fact_company_activity_daily) ORDER BY company_id`,
  );

  const tests = await wh.query<{ status: string; tests: number }>(
    `SELECT r.status, COUNT(*) AS tests FROM ops.data_test_results r JOIN ops.pipeline_runs p ON p.run_id = r.run_id
     WHERE p.kind = 'transform' AND p.started_at >= @since GROUP BY r.status`,
    { since },
  );
  const drift = await wh.query<{ source_file: string; drift_kind: string; column_name: string }>(
    `SELECT source_file, drift_kind, column_name FROM ops.schema_drift WHERE detected_at >= @since ORDER BY source_file, drift_kind, column_name`,
    { since },
  );
  const n = (v: number | null) => (v ?? 0).toLocaleString('en-US');
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(14)} ${value}`);
  console.log('');
  line('CRM upload', upload.rows_in !== null ? `${n(upload.rows_in)} rows: ${n(upload.rows_out)} landed in bronze, ${n(upload.rows_rejected)} quarantined` : 'the file was already ingested (same bytes): nothing to do');
  for (const f of files) {
    if (f.status === 'rejected') line('', `${f.landing_file} rejected whole: ${f.reason ?? ''}`);
    else if (f.quarantine_file) line('', `bad rows, each with line, field and reason: ${f.quarantine_file}`);
  }
  line('usage pull', usage.rows_in ? `${n(usage.rows_in)} records: ${n(usage.rows_out)} landed in bronze, ${n(usage.rows_rejected)} quarantined` : 'nothing new (watermark is at yesterday)');
  if (usageRejects.length) line('', `bad records: ${usageRejects.length} file(s) like ${usageRejects[0]}`);
  line('transform', transform.runs ? `${n(transform.rows_in)} bronze rows loaded, ${n(transform.rows_out)} gold rows rebuilt${transform.failed ? `, ${transform.failed} FAILED run(s)` : ''}` : 'nothing to do');
  const byStatus = (status: string) => tests.find((t) => t.status === status)?.tests ?? 0;
  if (tests.length) line('data tests', `${n(byStatus('pass'))} passed, ${n(byStatus('warn'))} warned, ${n(byStatus('error'))} failed (ops.data_test_results; npm run ops -- runs)`);
  for (const d of drift) line('schema drift', `${d.source_file}: ${d.drift_kind} "${d.column_name}" (ops.schema_drift)`);
  line('gold', `${n(gold?.rows ?? 0)} rows in gold.fact_company_activity_daily: ${gold?.companies ?? 0} companies, ${gold?.first_date ?? '-'} … ${gold?.last_date ?? '-'}`);
  line('churn risk', `${atRisk.length} companies on ${gold?.last_date ?? '-'}${atRisk.length ? `: ${atRisk.slice(0, 8).map((r) => r.company_id).join(', ')}${atRisk.length > 8 ? ', …' : ''}` : ''}`);
  line('warehouse', `${host.ctx.settings.duckdbPath} (bronze.*, silver.*, gold.*, ops.* — runs in ops.pipeline_runs)`);
  console.log('\nRun `npm start` again for an incremental run; `npm run dev` keeps the local host running;');
  console.log('`npm run ops -- trace --company <id> --date <YYYY-MM-DD>` traces a gold row to its bronze files and lines.');
}

main().catch((err: unknown) => {
  console.error(`\nnpm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
