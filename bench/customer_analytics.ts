/**
 * `npm run bench -- --domain customers`: the customer analytics benchmark on the local host
 * (Azurite + embedded DuckDB + the handlers the Functions host fires), at the issue's scale.
 *
 *   npm run bench -- --domain customers                          50,000 customers × 580 days (14.0 M transactions)
 *   npm run bench -- --domain customers --customers 5000 --days 400   a quick check
 *   npm run bench -- --domain customers --dir /tmp/b --keep      keep the state
 *   npm run bench -- --domain customers --duckdb-memory-limit 1GB --duckdb-threads 2
 *   npm run bench -- --domain customers --sales-only             stage 6 alone (to repeat it for a median)
 *
 * Stages:
 *   1. generate: the streaming generator writes customers.csv and transactions.csv (all days but
 *      the last) and day.csv (the last day's transactions), in this process.
 *   2. upload ingest: both files uploaded to `landing`, their BlobCreated events drained through
 *      the upload ingest (rows/s over the transactions file).
 *   3. load and 4. full build of every customer model (with their data tests): one drain of the
 *      transform queue, split by the steps the transform records in ops.run_steps.
 *   5. one day: day.csv uploaded, ingested, loaded and every model downstream rebuilt, end to end.
 *   6. a 40,000-row `sales` file on a fresh warehouse (a shop with only that export): upload,
 *      ingest, load and every model, end to end.
 *   7. peak memory: this process's RSS sampled every 50 ms (DuckDB runs in-process).
 * The churn model's holdout AUC on the generated data is reported. A missed target does not fail
 * the benchmark; a failed run does (exit code 1).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { addDays, toIsoDate } from '../functions/core/dates.js';
import { consoleLog, type Log } from '../functions/core/log.js';
import { fileSink, generateCustomerData, salesCsv, TRANSACTIONS_HEADER } from '../functions/domains/customer_analytics/generate.js';
import { ingestThreads } from '../functions/ingest/splitPool.js';
import { LocalHost } from '../functions/local/localHost.js';
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import { machineBusyMs, processCpuMs } from './machine.js';
import { publishedAtMs } from './runTimes.js';

const MB = 1024 * 1024;
const TARGETS = { ingestRowsPerSecond: 200_000, fullBuildSeconds: 60, daySeconds: 3, peakRssBytes: 1.5 * 1024 * MB, salesSeconds: 2 } as const;
const CUSTOMER_MODELS = new Set(MODEL_GRAPH.models.filter((m) => m.domain === 'customer_analytics').map((m) => m.name));

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms / 1000).toFixed(2);
const rate = (rows: number, ms: number) => (ms > 0 ? `${int((rows * 1000) / ms / 1000)} k` : '-');

class MemorySampler {
  peak = 0;
  private timer?: NodeJS.Timeout;
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref(); // a failed stage must not keep the process alive
  }
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

interface StepRow {
  step_name: string;
  duration_ms: number;
  rows_out: number | null;
}

async function transformSteps(host: LocalHost, since: Date): Promise<StepRow[]> {
  return host.ctx.warehouse.query<StepRow>(
    `SELECT s.step_name, s.duration_ms, s.rows_out FROM ops.run_steps s JOIN ops.pipeline_runs r ON r.run_id = s.run_id
     WHERE r.kind = 'transform' AND r.started_at >= @since AND s.status = 'succeeded' ORDER BY r.started_at, s.step_seq`,
    { since },
  );
}

async function requireSucceeded(host: LocalHost, since: Date, what: string): Promise<void> {
  const failed = await host.ctx.warehouse.query<{ kind: string; error: string | null }>(
    `SELECT kind, error FROM ops.pipeline_runs WHERE started_at >= @since AND status = 'failed'`,
    { since },
  );
  if (failed.length) throw new Error(`${what}: ${failed.map((f) => `${f.kind}: ${f.error ?? '?'}`).join(' | ')}`);
}

export async function runDomainBench(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      customers: { type: 'string', default: '50000' },
      days: { type: 'string', default: '580' },
      seed: { type: 'string', default: '42' },
      'sales-rows': { type: 'string', default: '40000' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'sales-only': { type: 'boolean', default: false },
      'duckdb-memory-limit': { type: 'string' },
      'duckdb-threads': { type: 'string' },
    },
  });
  const customers = Number(args.customers);
  const days = Number(args.days);
  const seed = Number(args.seed);
  const salesRows = Number(args['sales-rows']);
  const dir = args.dir ? path.resolve(args.dir) : await mkdtemp(path.join(os.tmpdir(), 'bench-customers-'));
  const env: Record<string, string> = {};
  if (args['duckdb-memory-limit']) env.DUCKDB_MEMORY_LIMIT = args['duckdb-memory-limit'];
  if (args['duckdb-threads']) env.DUCKDB_THREADS = args['duckdb-threads'];
  const verbose = consoleLog('  ');
  const log: Log = args.verbose ? verbose : { info: () => {}, warn: (m, p) => verbose.warn(m, p), error: (m, p) => verbose.error(m, p) };
  const memory = new MemorySampler();
  memory.start();
  const results: string[][] = [];
  // where the peak is reached: the sampled peak after each stage
  const peaks: string[] = [];
  const notePeak = (stage: string) => peaks.push(`${stage} ${int(memory.peak / MB)} MB`);
  // CPU seconds per stage, this process's and the other processes' (a shared machine: wall time alone misleads)
  const cpuNotes: string[] = [];
  const cpuMark = async () => ({ own: processCpuMs(), busy: await machineBusyMs() });
  const noteCpu = (stage: string, from: { own: number; busy: number | undefined }, to: { own: number; busy: number | undefined }) => {
    const own = to.own - from.own;
    const others = from.busy === undefined || to.busy === undefined ? undefined : Math.max(0, to.busy - from.busy - own);
    cpuNotes.push(`${stage} ${secs(own)} s, others ${others === undefined ? '?' : secs(others)} s`);
  };
  const end = addDays(toIsoDate(new Date()), -1);
  console.log(`Customer analytics benchmark: ${int(customers)} customers × ${days} days ending ${end}, seed ${seed}; state in ${dir}; ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  let auc = 'n/a';
  if (!args['sales-only']) {
    // 1. generate
    const gen = path.join(dir, 'generated');
    let t = Date.now();
    const customersFile = fileSink(path.join(gen, 'customers.csv'));
    const transactionsFile = fileSink(path.join(gen, 'transactions.csv'));
    const dayFile = fileSink(path.join(gen, 'day.csv'));
    await dayFile.write(TRANSACTIONS_HEADER);
    let dayRows = 0;
    const counts = await generateCustomerData(
      { customers, days, seed, endDate: end },
      {
        customers: customersFile.write,
        transactions: (line, day) => {
          if (day !== end || line === TRANSACTIONS_HEADER) return transactionsFile.write(line);
          dayRows++;
          return dayFile.write(line);
        },
      },
    );
    await Promise.all([customersFile.close(), transactionsFile.close(), dayFile.close()]);
    const generateMs = Date.now() - t;
    const bulkRows = counts.transactions - dayRows;
    const bytes = (await stat(path.join(gen, 'transactions.csv'))).size;
    results.push(['generate (customers + transactions, streamed to disk)', int(counts.transactions + counts.customers), secs(generateMs), rate(counts.transactions, generateMs), '', '']);
    notePeak('generate');
    console.log(`  generated ${int(counts.transactions)} transactions (${(bytes / MB).toFixed(0)} MB) of ${int(customers)} customers in ${secs(generateMs)} s; the last day (${int(dayRows)} rows) held back`);

    const host = await LocalHost.start({ dir, log, env });
    try {
      // 2. upload ingest
      t = Date.now();
      await host.uploadFile('customers/customers.csv', path.join(gen, 'customers.csv'));
      await host.uploadFile('transactions/transactions.csv', path.join(gen, 'transactions.csv'));
      const uploadMs = Date.now() - t;
      const cpuIngest = await cpuMark();
      const sinceIngest = new Date();
      await host.drainQueue('landingEvents', { concurrency: ingestThreads(host.ctx.settings) });
      noteCpu('upload ingest', cpuIngest, await cpuMark());
      await requireSucceeded(host, sinceIngest, 'upload ingest');
      const ingests = await host.ctx.warehouse.query<{ trigger_name: string; duration_ms: number; rows_in: number }>(
        `SELECT trigger_name, duration_ms, rows_in FROM ops.pipeline_runs WHERE kind = 'upload_ingest' AND started_at >= @since`,
        { since: sinceIngest },
      );
      const txIngest = ingests.find((r) => r.trigger_name.includes('transactions/'))!;
      notePeak('upload ingest');
      results.push(['upload to landing (Azurite), both files', '', secs(uploadMs), '', '', '']);
      results.push(['upload ingest: transactions.csv → bronze', int(txIngest.rows_in), secs(txIngest.duration_ms), rate(txIngest.rows_in, txIngest.duration_ms), `>= ${int(TARGETS.ingestRowsPerSecond / 1000)} k`, txIngest.rows_in * 1000 / txIngest.duration_ms >= TARGETS.ingestRowsPerSecond ? 'met' : 'missed']);

      // 3 + 4. load and full build
      const cpuBuild = await cpuMark();
      const sinceBuild = new Date();
      t = Date.now();
      await host.drainQueue('transformRequests');
      const transformMs = Date.now() - t;
      noteCpu('load and full build', cpuBuild, await cpuMark());
      await requireSucceeded(host, sinceBuild, 'full build');
      const steps = await transformSteps(host, sinceBuild);
      const load = steps.filter((s) => s.step_name.startsWith('load '));
      const models = steps.filter((s) => CUSTOMER_MODELS.has(s.step_name));
      const loadMs = load.reduce((n, s) => n + s.duration_ms, 0);
      const loadRows = load.reduce((n, s) => n + (s.rows_out ?? 0), 0);
      const buildMs = models.reduce((n, s) => n + s.duration_ms, 0);
      notePeak('load and full build');
      results.push(['bronze → warehouse load', int(loadRows), secs(loadMs), rate(loadRows, loadMs), '', '']);
      results.push([`full build: ${models.length} customer models with their data tests`, int(bulkRows), secs(buildMs), '', `< ${TARGETS.fullBuildSeconds} s`, buildMs / 1000 < TARGETS.fullBuildSeconds ? 'met' : 'missed']);
      results.push(['  (transform run end to end: load + build + bookkeeping)', '', secs(transformMs), '', '', '']);
      console.log('\n  Full build, per model (seconds, rows):');
      for (const m of [...models].sort((a, b) => b.duration_ms - a.duration_ms)) console.log(`    ${m.step_name.padEnd(36)} ${secs(m.duration_ms).padStart(7)}  ${int(m.rows_out ?? 0).padStart(12)}`);
      const [model] = await host.ctx.warehouse.query<{ method: string; auc: string | null; base_rate: string | null; holdout_rows: number; train_rows: number; note: string }>(
        `SELECT method, CAST(holdout_auc AS VARCHAR(20)) AS auc, CAST(base_rate AS VARCHAR(20)) AS base_rate, holdout_rows, train_rows, note FROM gold.churn_model WHERE term IN ('intercept', 'recency_weight')`,
      );
      auc = model?.method === 'logistic_regression' ? `${Number(model.auc).toFixed(3)} (holdout of ${int(model.holdout_rows)} customers, base rate ${(100 * Number(model.base_rate)).toFixed(1)} %, ${int(model.train_rows)} training rows)` : `heuristic: ${model?.note ?? '-'}`;

      // 5. one day end to end
      const cpuDay = await cpuMark();
      const sinceDay = new Date();
      t = Date.now();
      await host.uploadFile('transactions/day.csv', path.join(gen, 'day.csv'));
      await host.drainQueue('landingEvents', { concurrency: ingestThreads(host.ctx.settings) });
      await host.drainQueue('transformRequests');
      const dayMs = Date.now() - t;
      noteCpu('one day', cpuDay, await cpuMark());
      await requireSucceeded(host, sinceDay, 'one-day run');
      const dayPublishedMs = ((await publishedAtMs(host, sinceDay)) ?? Date.now()) - t;
      const daySteps = await transformSteps(host, sinceDay);
      notePeak('one day');
      results.push([`one day's file end to end (upload, ingest, load, ${daySteps.filter((s) => CUSTOMER_MODELS.has(s.step_name)).length} models)`, int(dayRows), secs(dayPublishedMs), '', `< ${TARGETS.daySeconds} s`, dayPublishedMs / 1000 < TARGETS.daySeconds ? 'met' : 'missed']);
      results.push(['  … and the HTML report written after it', '', secs(dayMs), '', '', '']);
      console.log('\n  One day, per step (seconds):');
      for (const s of daySteps) console.log(`    ${s.step_name.slice(0, 60).padEnd(60)} ${secs(s.duration_ms).padStart(7)}`);
    } finally {
      await host.stop();
    }
  }

  // 6. a sales export alone, on a fresh warehouse
  const salesDir = path.join(dir, 'sales-only');
  const salesHost = await LocalHost.start({ dir: salesDir, log, env });
  try {
    const content = salesCsv({ rows: salesRows, customers: Math.round(salesRows / 8), seed, endDate: end, days: 365 });
    const cpuSales = await cpuMark();
    const since = new Date();
    const t = Date.now();
    await salesHost.upload('sales/sales.csv', content);
    await salesHost.drainQueue('landingEvents');
    await salesHost.drainQueue('transformRequests');
    const salesMs = Date.now() - t;
    noteCpu('sales file', cpuSales, await cpuMark());
    await requireSucceeded(salesHost, since, 'sales file');
    const salesPublishedMs = ((await publishedAtMs(salesHost, since)) ?? Date.now()) - t;
    results.push([`a ${int(salesRows)}-row sales file alone: ingest, load, every model`, int(salesRows), secs(salesPublishedMs), '', `< ${TARGETS.salesSeconds} s`, salesPublishedMs / 1000 < TARGETS.salesSeconds ? 'met' : 'missed']);
    results.push(['  … and the HTML report written after it', '', secs(salesMs), '', '', '']);
    notePeak('sales file');
    const [ingest] = await salesHost.ctx.warehouse.query<{ duration_ms: number }>(`SELECT duration_ms FROM ops.pipeline_runs WHERE kind = 'upload_ingest' AND started_at >= @since`, { since });
    console.log(`\n  The sales file alone, per step (seconds; upload ingest ${secs(ingest?.duration_ms ?? 0)}):`);
    for (const s of await transformSteps(salesHost, since)) console.log(`    ${s.step_name.slice(0, 60).padEnd(60)} ${secs(s.duration_ms).padStart(7)}`);
  } finally {
    await salesHost.stop();
  }

  memory.stop();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const peak = Math.max(memory.peak, maxRss);
  results.push(['peak memory (this process, DuckDB included)', '', '', `${int(peak / MB)} MB`, `< ${int(TARGETS.peakRssBytes / MB)} MB`, peak < TARGETS.peakRssBytes ? 'met' : 'missed']);
  console.log(`\nResults (load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}):\n`);
  console.log(table(['stage', 'rows', 'seconds', 'rows/s', 'target', ''], results));
  console.log(`\n  churn model on the generated data: AUC ${auc}`);
  console.log(`  peak RSS (sampled every 50 ms) after each stage: ${peaks.join(', ')}`);
  console.log(`  CPU per stage (this process: its JavaScript and DuckDB's threads; other processes: Azurite and whatever else runs here): ${cpuNotes.join('; ')}`);
  if (!args.keep && !args.dir) await rm(dir, { recursive: true, force: true });
  else console.log(`  state kept in ${dir}`);
}
