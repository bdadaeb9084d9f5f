/**
 * `npm run bench`: times each stage of the pipeline on the local host (Azurite + embedded DuckDB +
 * the handlers the Functions host fires) at production-like volume, and prints rows/s per stage,
 * peak memory and a verdict per target.
 *
 *   npm run bench                                        10,000 companies × 365 days, seed 42
 *   npm run bench -- --companies 200 --days 30           a quick check
 *   npm run bench -- --page-size 10000 --concurrency 4   API client tuning
 *   npm run bench -- --dir /tmp/b --keep                 keep the state (DuckDB file, Azurite data)
 *   npm run bench -- --cpu-prof /tmp/prof                a CPU profile of this process per stage, summarised
 *   npm run bench -- --duckdb-memory-limit 512MB         try DuckDB settings (also --duckdb-threads N)
 *
 * Stages:
 *   1. CRM upload ingest: weekly CRM snapshots (crmSampleCsv) uploaded to `landing`, BlobCreated
 *      event drained through the upload ingest handler (CSV tokenizer → contract → bronze JSON
 *      lines). Beside it, the tokenizer alone over the same bytes in memory: the ingest's ceiling.
 *   2. Usage ingest, API → bronze: the timer handler against the local usage API, which runs as a
 *      child process (the other core). `--days` activity dates ending yesterday.
 *   3. Bronze → warehouse load and 4. silver + gold full build: one drain of the transform queue,
 *      split by the steps the transform records in ops.run_steps.
 *   5. One-day incremental run: the clock moves one day on, the timer pulls that one new date, the
 *      transform queue is drained; ingest + load + models timed together.
 *   6. Peak memory: this process's RSS sampled every 50 ms (DuckDB runs in-process) and
 *      `process.resourceUsage().maxRSS`; the API child's and Azurite's peak RSS from /proc (Linux).
 *   7. Large uploads (`--big-file-mb`, default 300; 0 skips): a valid CRM file of that size and one
 *      with an unterminated quote on line 3, each ingested by `bench/bigFile.ts` in a process of its
 *      own (its own Azurite and DuckDB), whose peak RSS is the ingest's: flat in the file's size.
 *
 * The pipeline's own logging is silenced except for warnings and errors (`--verbose` shows all).
 * A missed target does not fail the benchmark; a failed pipeline run or an inconsistent result does
 * (exit code 1).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addDays, toIsoDate, type IsoDate } from '../functions/core/dates.js';
import { consoleLog, type Log } from '../functions/core/log.js';
import { LocalHost } from '../functions/local/localHost.js';
import { crmSampleCsv } from '../functions/local/sampleData.js';
import { container } from '../functions/storage/blobStore.js';
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import { csvRecordBatches } from '../functions/ingest/csvRecords.js';
import { StageProfiler, summariseProfile } from './cpuProfile.js';
import { machineBusyMs } from './machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const API_SCRIPT = path.join(ROOT, 'functions', 'local', 'usageApiServer.ts');
const BIG_FILE_SCRIPT = path.join(ROOT, 'bench', 'bigFile.ts');
const DAY_MS = 86_400_000;
const MB = 1024 * 1024;

const TARGETS = {
  crmIngestRowsPerSecond: 200_000,
  usageIngestRowsPerSecond: 300_000,
  loadRowsPerSecond: 1_000_000,
  fullBuildSeconds: 8,
  incrementalSeconds: 2,
  peakRssBytes: 1024 * MB,
} as const;

// ---- arguments ------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    companies: { type: 'string', default: '10000' },
    days: { type: 'string', default: '365' },
    seed: { type: 'string', default: '42' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'page-size': { type: 'string', default: '5000' },
    concurrency: { type: 'string' },
    'bad-record-rate': { type: 'string', default: '0' },
    verbose: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'duckdb-memory-limit': { type: 'string' },
    'duckdb-threads': { type: 'string' },
    'big-file-mb': { type: 'string', default: '300' },
  },
});

function positive(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, got "${value}"`);
  return n;
}

function share(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new Error(`--${name} must be a number from 0 to below 1, got "${value}"`);
  return n;
}

// ---- formatting -----------------------------------------------------------------------------

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms / 1000).toFixed(2);
const mb = (bytes: number) => `${int(bytes / MB)} MB`;
const size = (bytes: number) => (bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} kB`);
function rate(rows: number, ms: number): string {
  if (ms <= 0) return '-';
  const r = (rows * 1000) / ms;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : r >= 1e3 ? `${(r / 1e3).toFixed(0)} k` : r.toFixed(0);
}
function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(header), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---- memory ---------------------------------------------------------------------------------

/** This process's RSS every 50 ms: the peak overall (and when) and since the last `beginStage`. */
class MemorySampler {
  peak = 0;
  peakAt = new Date();
  /** V8 heap and buffers at the peak; the rest of RSS is native (DuckDB, mostly). */
  peakBreakdown: NodeJS.MemoryUsage | undefined;
  stagePeak = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }
  sample(): number {
    const usage = process.memoryUsage();
    const rss = usage.rss;
    this.samples++;
    if (rss > this.peak) {
      this.peak = rss;
      this.peakAt = new Date();
      this.peakBreakdown = usage;
    }
    if (rss > this.stagePeak) this.stagePeak = rss;
    return rss;
  }
  beginStage(): void {
    this.stagePeak = 0;
    this.sample();
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

/** CPU time (user + system, ms) a process has used so far, from /proc; undefined elsewhere. */
async function cpuMsOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100/s on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Other processes whose CPU use each stage reports (the usage API child, Azurite). */
const watched: { name: string; pid: number }[] = [];

/** Peak RSS (VmHWM) of a process, from /proc; undefined where that is not available. */
async function peakRssOf(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Child processes of this process whose command line contains `needle` (Linux /proc only). */
async function childPids(needle: string): Promise<number[]> {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return found;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = (await readFile(`/proc/${e}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmdline.includes(needle)) found.push(Number(e));
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

// ---- the usage API as a child process -------------------------------------------------------

interface ApiChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `node --import tsx usageApiServer.ts …` (not the tsx CLI, which would add a wrapper process). */
async function startApiChild(options: { seed: number; companies: number; token: string; badRecordRate: number }): Promise<ApiChild> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', API_SCRIPT, '--seed', String(options.seed), '--companies', String(options.companies), '--token', options.token, '--bad-record-rate', String(options.badRecordRate)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the usage API child did not print its URL within 30 s. stderr:\n${stderr}`));
    }, 30_000);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { url?: unknown };
        if (typeof parsed.url === 'string') {
          clearTimeout(timer);
          lines.close();
          resolve(parsed.url);
        }
      } catch {
        // not the URL line
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the usage API child exited (${signal ?? code}) before printing its URL. stderr:\n${stderr}`));
    });
  });
  child.stdout.resume(); // keep draining whatever else it prints
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---- what the runs recorded -----------------------------------------------------------------

interface RunRow {
  run_id: string;
  kind: string;
  status: string;
  rows_in: number | null;
  rows_out: number | null;
  rows_rejected: number | null;
  duration_ms: number | null;
  detail: string | null;
  error: string | null;
}
interface StepRow {
  run_id: string;
  step_name: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number;
  rows_in: number | null;
  rows_out: number | null;
}

async function runsSince(host: LocalHost, kind: string, since: Date): Promise<RunRow[]> {
  return host.ctx.warehouse.query<RunRow>(
    `SELECT run_id, kind, status, rows_in, rows_out, rows_rejected, duration_ms, detail, error
     FROM ops.pipeline_runs WHERE kind = @kind AND started_at >= @since ORDER BY started_at`,
    { kind, since },
  );
}

async function stepsSince(host: LocalHost, kind: string, since: Date): Promise<StepRow[]> {
  return host.ctx.warehouse.query<StepRow>(
    `SELECT s.run_id, s.step_name, s.started_at, s.finished_at, s.duration_ms, s.rows_in, s.rows_out
     FROM ops.run_steps s JOIN ops.pipeline_runs r ON r.run_id = s.run_id
     WHERE r.kind = @kind AND r.started_at >= @since AND s.status = 'succeeded'
     ORDER BY r.started_at, s.step_seq`,
    { kind, since },
  );
}

function requireSucceeded(runs: RunRow[], what: string): void {
  if (runs.length === 0) throw new Error(`${what}: no run was recorded`);
  const failed = runs.filter((r) => r.status === 'failed');
  if (failed.length > 0) throw new Error(`${what} failed: ${failed.map((r) => r.error ?? 'unknown error').join(' | ')}`);
}

const MODEL_STEPS = new Set(MODEL_GRAPH.models.map((m) => m.name));

interface TransformSplit {
  loadMs: number;
  loadRows: number;
  loadFiles: number;
  usageLoadMs: number;
  usageLoadRows: number;
  crmLoadMs: number;
  crmLoadRows: number;
  modelMs: number;
  /** The models' data tests (they run inside the model steps: included in modelMs). */
  testsMs: number;
  models: { name: string; ms: number; rows: number }[];
  slowestLoad: StepRow | undefined;
  usageLoadFiles: number;
  /** Milliseconds per file of each product_usage load step, in load order. */
  usageLoadPerFile: number[];
}

/**
 * The source and file count of a load step: `load <source>: N files (<first path> …)` (batched
 * loads) or `load <path>` (one file per step).
 */
function loadStepFiles(stepName: string): { source: string; files: number } {
  const batch = /^load ([^:\s]+): (\d+) files? \(/.exec(stepName);
  if (batch) return { source: batch[1]!, files: Number(batch[2]) };
  return { source: stepName.slice('load '.length).split('/')[0] ?? '', files: 1 };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function splitTransform(steps: StepRow[]): TransformSplit {
  const split: TransformSplit = { loadMs: 0, loadRows: 0, loadFiles: 0, usageLoadMs: 0, usageLoadRows: 0, crmLoadMs: 0, crmLoadRows: 0, modelMs: 0, testsMs: 0, models: [], slowestLoad: undefined, usageLoadFiles: 0, usageLoadPerFile: [] };
  for (const s of steps) {
    if (s.step_name.startsWith('load ')) {
      const rows = s.rows_out ?? 0;
      split.loadMs += s.duration_ms;
      split.loadRows += rows;
      const { source, files } = loadStepFiles(s.step_name);
      split.loadFiles += files;
      if (source === 'product_usage') {
        split.usageLoadMs += s.duration_ms;
        split.usageLoadRows += rows;
        split.usageLoadFiles += files;
        split.usageLoadPerFile.push(s.duration_ms / files);
      } else {
        split.crmLoadMs += s.duration_ms;
        split.crmLoadRows += rows;
      }
      if (!split.slowestLoad || s.duration_ms > split.slowestLoad.duration_ms) split.slowestLoad = s;
    } else if (s.step_name.startsWith('tests ')) {
      // a model's tests run inside its step (same transaction): part of modelMs, shown apart
      if (MODEL_STEPS.has(s.step_name.slice('tests '.length))) split.testsMs += s.duration_ms;
    } else if (MODEL_STEPS.has(s.step_name)) {
      split.modelMs += s.duration_ms;
      split.models.push({ name: s.step_name, ms: s.duration_ms, rows: s.rows_out ?? 0 });
    }
  }
  return split;
}

// ---- stages ---------------------------------------------------------------------------------

interface Timed<T> {
  value: T;
  ms: number;
  cpuMs: number;
  /** CPU ms used meanwhile by processes that are not part of the benchmark (other work on the machine). */
  foreignCpuMs: number | undefined;
  /** CPU ms of each watched child process during the stage. */
  childCpuMs: Record<string, number>;
  peakRss: number;
}

/** Set by `--cpu-prof DIR`: every stage is profiled and summarised. */
let profiler: StageProfiler | undefined;

async function timed<T>(memory: MemorySampler, label: string, fn: () => Promise<T>): Promise<Timed<T>> {
  console.log(`▶ ${label} …`);
  await profiler?.start();
  memory.beginStage();
  const children0 = await Promise.all(watched.map((w) => cpuMsOf(w.pid)));
  const busy0 = await machineBusyMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const busy1 = await machineBusyMs();
  const children1 = await Promise.all(watched.map((w) => cpuMsOf(w.pid)));
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const childCpuMs: Record<string, number> = {};
  watched.forEach((w, i) => {
    const a = children0[i];
    const b = children1[i];
    if (a !== undefined && b !== undefined) childCpuMs[w.name] = b - a;
  });
  memory.sample();
  const ours = cpuMs + Object.values(childCpuMs).reduce((a, b) => a + b, 0);
  const foreignCpuMs = busy0 === undefined || busy1 === undefined ? undefined : Math.max(0, busy1 - busy0 - ours);
  const others = Object.entries(childCpuMs).map(([name, c]) => `, ${name} ${secs(c)} s`).join('');
  const foreign = foreignCpuMs === undefined ? '' : `, other processes ${secs(foreignCpuMs)} s`;
  console.log(`✓ ${label}: ${secs(ms)} s (CPU: this process ${secs(cpuMs)} s${others}${foreign}; peak RSS ${mb(memory.stagePeak)})`);
  if (profiler) {
    const { profile, file } = await profiler.stop(label);
    const summary = summariseProfile(profile, ROOT);
    const pct = (x: number) => `${((100 * x) / Math.max(1, summary.totalMs)).toFixed(0)}%`;
    console.log(`  profile ${path.relative(process.cwd(), file)}: ${secs(summary.totalMs)} s sampled; self time by module:`);
    console.log('    ' + summary.byModule.map(([m, x]) => `${m} ${pct(x)}`).join(', '));
    console.log('  by function:');
    for (const [f, x] of summary.byFunction) console.log(`    ${pct(x).padStart(4)} ${secs(x).padStart(6)} s  ${f}`);
  }
  return { value, ms, cpuMs, foreignCpuMs, childCpuMs, peakRss: memory.stagePeak };
}

async function drainTransform(host: LocalHost): Promise<void> {
  const result = await host.drainQueue('transformRequests', { retryDelaySeconds: 1 });
  if (result.failures > 0) throw new Error(`the transform failed ${result.failures} time(s) (${result.poisoned} poisoned); see the errors above and ops.pipeline_runs`);
}

// ---- main -----------------------------------------------------------------------------------

async function prepareDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  if (!args.dir) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-bench-'));
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const dir = path.resolve(args.dir);
  const existed = existsSync(dir);
  if (existed && (await readdir(dir)).length > 0) throw new Error(`--dir ${dir} is not empty; the benchmark needs a fresh state directory so runs are comparable`);
  await mkdir(dir, { recursive: true });
  return {
    dir,
    cleanup: async () => {
      if (!existed) return rm(dir, { recursive: true, force: true });
      for (const e of await readdir(dir)) await rm(path.join(dir, e), { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const companies = positive('companies', args.companies, 999_999);
  const days = positive('days', args.days, 3660);
  const seed = positive('seed', args.seed);
  const pageSize = positive('page-size', args['page-size'], 10_000);
  const concurrency = args.concurrency === undefined ? undefined : positive('concurrency', args.concurrency, 16);
  const badRecordRate = share('bad-record-rate', args['bad-record-rate']);

  // The pipeline's clock: noon UTC of the day the benchmark started, running at real speed, so a
  // run that crosses midnight still sees the same "yesterday". The incremental run moves it a day.
  const today = toIsoDate(new Date());
  const clockOrigin = Date.parse(`${today}T12:00:00Z`);
  const t0 = Date.now();
  let clockOffsetMs = 0;
  const clock = () => new Date(clockOrigin + clockOffsetMs + (Date.now() - t0));
  const lastDay = addDays(today, -1); // yesterday: the last activity date of the full run
  const firstDay = addDays(lastDay, -(days - 1));
  const nextDay = today; // the incremental run's one new date

  if (args['cpu-prof']) {
    const profDir = path.resolve(args['cpu-prof']);
    await mkdir(profDir, { recursive: true });
    profiler = new StageProfiler(profDir);
  }
  const memory = new MemorySampler();
  memory.start();
  const { dir, cleanup } = await prepareDir();
  const loud = consoleLog('    ');
  const log: Log = args.verbose ? loud : { info: () => {}, warn: (m, p) => loud.warn(m, p), error: (m, p) => loud.error(m, p) };

  console.log(`Pipeline benchmark: ${int(companies)} companies × ${days} days (${firstDay} … ${lastDay}), seed ${seed}`);
  console.log(`  state ${dir}${args.keep ? ' (kept)' : ' (removed at the end; --keep keeps it)'}`);
  console.log(`  node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, ${int(os.totalmem() / MB)} MB RAM, load average ${loadAverage()}`);
  if (profiler) console.log('  CPU profiling is on: timings include its overhead');
  console.log('');

  const token = randomBytes(16).toString('hex'); // a throwaway token for the local API only
  let api: ApiChild | undefined;
  let host: LocalHost | undefined;
  let apiPeak: number | undefined;
  let azuritePeak: number | undefined;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\ninterrupted: stopping the usage API and Azurite${args.keep ? '' : `, removing ${dir}`}`);
    void Promise.allSettled([api?.stop(), host?.stop()])
      .then(() => (args.keep ? undefined : cleanup()))
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const setup = await timed(memory, 'setup: usage API child process, Azurite, DuckDB', async () => {
      api = await startApiChild({ seed, companies, token, badRecordRate });
      host = await LocalHost.start({
        dir,
        log,
        env: {
          DUCKDB_PATH: path.join(dir, 'warehouse.duckdb'),
          USAGE_API_BASE_URL: api.url,
          USAGE_API_TOKEN: token,
          USAGE_START_DATE: firstDay,
          USAGE_MAX_DATES_PER_RUN: String(days),
          USAGE_API_PAGE_SIZE: String(pageSize),
          ...(concurrency === undefined ? {} : { USAGE_FETCH_CONCURRENCY: String(concurrency) }),
        },
      });
      host.ctx.now = clock;
      // experiments only: DuckDB settings the warehouse does not set itself
      if (args['duckdb-memory-limit']) await host.ctx.warehouse.exec(`SET memory_limit = '${args['duckdb-memory-limit'].replace(/'/g, '')}'`);
      if (args['duckdb-threads']) await host.ctx.warehouse.exec(`SET threads = ${positive('duckdb-threads', args['duckdb-threads'], 256)}`);
      watched.push({ name: 'API child', pid: api.pid });
      for (const pid of await childPids('azurite')) watched.push({ name: 'Azurite', pid });
      return host;
    });
    const h = setup.value;
    const settings = h.ctx.settings;
    const [duck] = await h.ctx.warehouse.query<{ threads: string; memory_limit: string }>(`SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS memory_limit`);
    console.log(`  usage API ${api!.url} (pid ${api!.pid}); page size ${settings.USAGE_API_PAGE_SIZE}, fetch concurrency ${settings.USAGE_FETCH_CONCURRENCY}`);
    console.log(`  DuckDB threads ${duck?.threads ?? '?'}, memory_limit ${duck?.memory_limit ?? '?'}\n`);

    // 1. CRM upload ingest
    // the CSV text is dropped once uploaded, so it does not count towards the later stages' memory
    let csv: string | undefined;
    const sample = await timed(memory, 'prepare: generate the CRM sample', () => {
      const generated = crmSampleCsv({ seed, companies, days, endDate: lastDay });
      csv = generated.csv;
      return Promise.resolve({ rows: generated.rows, bytes: Buffer.byteLength(generated.csv) });
    });
    // the tokenizer alone over the same bytes, from memory in 64 kB chunks (what the download gives)
    const parserAlone = await timed(memory, 'prepare: the CSV tokenizer alone over the sample, in memory', async () => {
      const bytes = Buffer.from(csv!);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 65_536) chunks.push(bytes.subarray(i, i + 65_536));
      let records = 0;
      for await (const batch of csvRecordBatches(Readable.from(chunks), { maxRecordChars: 1 << 20 })) records += batch.length;
      return records - 1; // the header
    });
    const crmPath = `crm_company_daily/bench_seed${seed}_${companies}x${days}.csv`;
    const upload = await timed(memory, `prepare: upload ${size(sample.value.bytes)} of CSV to landing`, async () => {
      await h.upload(crmPath, csv!);
      csv = undefined;
    });
    const crmSince = new Date();
    const crm = await timed(memory, `1. CRM upload ingest (${int(sample.value.rows)} rows)`, async () => {
      const drained = await h.drainQueue('landingEvents', { retryDelaySeconds: 1 });
      if (drained.failures > 0) throw new Error(`the upload ingest failed ${drained.failures} time(s); see the errors above`);
    });
    const crmRuns = await runsSince(h, 'upload_ingest', crmSince);
    requireSucceeded(crmRuns, 'the CRM upload ingest');
    const crmRows = crmRuns.reduce((n, r) => n + (r.rows_in ?? 0), 0);
    const crmSteps = await stepsSince(h, 'upload_ingest', crmSince);

    // 2. Usage ingest
    const usageSince = new Date();
    const usage = await timed(memory, `2. usage ingest, API → bronze (${days} dates)`, () => h.fireUsageTimer());
    const usageRuns = await runsSince(h, 'usage_ingest', usageSince);
    requireSucceeded(usageRuns, 'the usage ingest');
    const usageReceived = usageRuns.reduce((n, r) => n + (r.rows_in ?? 0), 0);
    const usageAccepted = usageRuns.reduce((n, r) => n + (r.rows_out ?? 0), 0);
    const usageRejected = usageRuns.reduce((n, r) => n + (r.rows_rejected ?? 0), 0);
    const usageDetail = JSON.parse(usageRuns[0]?.detail ?? '{}') as { written?: number; pages?: number; attempts?: number };
    if (usageDetail.written !== days) throw new Error(`the usage ingest wrote ${usageDetail.written ?? 0} of ${days} dates`);
    const apiPeakAfterIngest = await peakRssOf(api!.pid);
    const bronzeUsage = await blobBytes(h, 'product_usage/');

    // 3 + 4. Transform
    const transformSince = new Date();
    const transform = await timed(memory, '3+4. transform: bronze → warehouse, silver + gold full build', () => drainTransform(h));
    const transformRuns = await runsSince(h, 'transform', transformSince);
    requireSucceeded(transformRuns, 'the transform');
    const full = splitTransform(await stepsSince(h, 'transform', transformSince));
    const silverFull = full.models.find((m) => m.name === 'silver.fact_company_usage_daily');
    const goldFull = full.models.find((m) => m.name === 'gold.fact_company_activity_daily');
    const fullCounts = await counts(h);

    // 5. Incremental: the next day's timer, then the transform it requests.
    clockOffsetMs += DAY_MS;
    const incSince = new Date();
    let incIngestMs = 0;
    const inc = await timed(memory, `5. one-day incremental run (${nextDay}): usage timer + transform`, async () => {
      const a = performance.now();
      await h.fireUsageTimer();
      incIngestMs = performance.now() - a;
      await drainTransform(h);
    });
    const incUsageRuns = await runsSince(h, 'usage_ingest', incSince);
    requireSucceeded(incUsageRuns, 'the incremental usage ingest');
    const incDetail = JSON.parse(incUsageRuns[0]?.detail ?? '{}') as { written?: number };
    if (incDetail.written !== 1) throw new Error(`the incremental usage ingest wrote ${incDetail.written ?? 0} dates, expected exactly 1 (${nextDay})`);
    const incRows = incUsageRuns.reduce((n, r) => n + (r.rows_out ?? 0), 0);
    const incTransformRuns = await runsSince(h, 'transform', incSince);
    requireSucceeded(incTransformRuns, 'the incremental transform');
    const incSplit = splitTransform(await stepsSince(h, 'transform', incSince));
    const after = await counts(h);

    // Consistency: every accepted usage record is in bronze and silver, once.
    const problems: string[] = [];
    if (fullCounts.bronzeUsage !== usageAccepted) problems.push(`bronze.product_usage has ${int(fullCounts.bronzeUsage)} rows after the full load, the ingest accepted ${int(usageAccepted)}`);
    if (fullCounts.silverUsage !== usageAccepted) problems.push(`silver.fact_company_usage_daily has ${int(fullCounts.silverUsage)} rows after the full build, the ingest accepted ${int(usageAccepted)}`);
    if (after.silverUsage !== usageAccepted + incRows) problems.push(`silver.fact_company_usage_daily has ${int(after.silverUsage)} rows after the incremental run, expected ${int(usageAccepted + incRows)}`);
    if (after.goldLastDate !== nextDay) problems.push(`gold's last date is ${after.goldLastDate ?? 'none'} after the incremental run, expected ${nextDay}`);
    if (fullCounts.gold === 0) problems.push('gold.fact_company_activity_daily is empty');

    // 7. Large uploads, each in a process of its own
    const bigMb = Number(args['big-file-mb']);
    const big: BigFileResult[] = [];
    if (bigMb > 0) {
      for (const kind of ['valid', 'unterminated'] as const) {
        const r = await timed(memory, `7. a ${bigMb} MB CRM upload (${kind === 'valid' ? 'valid' : 'an unterminated quote on line 3'}), in a process of its own`, () => runBigFile(bigMb, kind));
        big.push(r.value);
      }
    }

    // 6. Memory
    memory.stop();
    apiPeak = await peakRssOf(api!.pid);
    const azPids = await childPids('azurite');
    if (azPids.length > 0) azuritePeak = (await Promise.all(azPids.map(peakRssOf))).reduce<number>((a, b) => Math.max(a, b ?? 0), 0) || undefined;
    const maxRss = process.resourceUsage().maxRSS * 1024; // kB on every platform Node supports
    const peakRss = Math.max(memory.peak, maxRss);

    // ---- report ----
    const fullBuildRows = silverFull?.rows ?? usageAccepted;
    const incMs = inc.ms;
    const usageRate = (usageReceived * 1000) / usage.ms;
    const loadRate = full.loadMs > 0 ? (full.loadRows * 1000) / full.loadMs : 0;
    console.log('\nResults');
    console.log(
      table(
        ['stage', 'rows', 'seconds', 'rows/s', 'target', 'peak RSS'],
        [
          ['1. CRM upload ingest (CSV → bronze)', int(crmRows), secs(crm.ms), rate(crmRows, crm.ms), '≥ 200 k rows/s', mb(crm.peakRss)],
          ['   the CSV tokenizer alone (in memory)', int(parserAlone.value), secs(parserAlone.ms), rate(parserAlone.value, parserAlone.ms), '(the ingest\'s ceiling)', ''],
          ['2. usage ingest, API → bronze', int(usageReceived), secs(usage.ms), rate(usageReceived, usage.ms), '≥ 300 k rows/s', mb(usage.peakRss)],
          [`3. bronze → warehouse load (${full.loadFiles} files)`, int(full.loadRows), secs(full.loadMs), rate(full.loadRows, full.loadMs), '≥ 1 M rows/s', mb(transform.peakRss)],
          ['4. silver + gold full build', int(fullBuildRows), secs(full.modelMs), rate(fullBuildRows, full.modelMs), '< 8 s', mb(transform.peakRss)],
          ['   (3+4 wall: transform queue drained)', int(full.loadRows), secs(transform.ms), rate(full.loadRows, transform.ms), '', ''],
          ['5. one-day incremental, end to end', int(incRows), secs(incMs), rate(incRows, incMs), '< 2 s', mb(inc.peakRss)],
        ],
        [false, true, true, true, false, true],
      ),
    );

    console.log('\nWhere the time went');
    const detailLine = (label: string, value: string) => console.log(`  ${label.padEnd(44)} ${value}`);
    detailLine('setup (API child, Azurite, DuckDB)', `${secs(setup.ms)} s`);
    detailLine('CRM sample generated / uploaded', `${secs(sample.ms)} s / ${secs(upload.ms)} s (not in stage 1)`);
    detailLine('  CPU during CRM upload ingest', `${cpuText(crm)} in ${secs(crm.ms)} s wall`);
    for (const s of crmSteps) detailLine(`  upload ingest step ${s.step_name}`, `${secs(s.duration_ms)} s, ${int(s.rows_in ?? 0)} rows`);
    detailLine('  CRM rows accepted / quarantined', `${int(crmRuns.reduce((n, r) => n + (r.rows_out ?? 0), 0))} / ${int(crmRuns.reduce((n, r) => n + (r.rows_rejected ?? 0), 0))}`);
    detailLine('usage records received / accepted / rejected', `${int(usageReceived)} / ${int(usageAccepted)} / ${int(usageRejected)} (${int(companies * days)} company-days, ${((100 * usageAccepted) / (companies * days)).toFixed(1)}% with usage)`);
    detailLine('  usage pages / HTTP requests', `${int(usageDetail.pages ?? 0)} / ${int(usageDetail.attempts ?? 0)} (page size ${settings.USAGE_API_PAGE_SIZE}, concurrency ${settings.USAGE_FETCH_CONCURRENCY})`);
    detailLine('  bronze blobs written', `${bronzeUsage.files} files, ${size(bronzeUsage.bytes)} (${(bronzeUsage.bytes / Math.max(1, usageAccepted)).toFixed(0)} bytes per record)`);
    detailLine('  CPU during usage ingest', `${cpuText(usage)} in ${secs(usage.ms)} s wall (${os.cpus().length} cores)`);
    detailLine('transform wall / load steps / model steps', `${secs(transform.ms)} s / ${secs(full.loadMs)} s / ${secs(full.modelMs)} s (other: ${secs(transform.ms - full.loadMs - full.modelMs)} s)`);
    detailLine('  usage files load', `${int(full.usageLoadRows)} rows, ${full.usageLoadFiles} files in ${full.usageLoadPerFile.length} step(s), ${secs(full.usageLoadMs)} s (${rate(full.usageLoadRows, full.usageLoadMs)} rows/s, ${(full.usageLoadMs / Math.max(1, full.usageLoadFiles)).toFixed(1)} ms per file)`);
    detailLine('  CRM file load', `${int(full.crmLoadRows)} rows in ${secs(full.crmLoadMs)} s (${rate(full.crmLoadRows, full.crmLoadMs)} rows/s)`);
    if (full.usageLoadPerFile.length >= 2) {
      // does a load get slower as the table grows?
      const d = full.usageLoadPerFile;
      const n = Math.max(1, Math.floor(d.length / 10));
      detailLine('  usage load, ms per file: early / late steps', `${median(d.slice(0, n)).toFixed(1)} ms (first ${n} step(s)) / ${median(d.slice(-n)).toFixed(1)} ms (last ${n})`);
    }
    if (full.slowestLoad) detailLine('  slowest load step', `${full.slowestLoad.step_name.replace(/^load /, '')}: ${secs(full.slowestLoad.duration_ms)} s`);
    for (const m of full.models) detailLine(`  ${m.name}`, `${secs(m.ms)} s, ${int(m.rows)} rows out`);
    detailLine('  of which the models\' data tests', `${secs(full.testsMs)} s`);
    detailLine('  CPU during transform', `${cpuText(transform)} in ${secs(transform.ms)} s wall`);
    detailLine('incremental: ingest / transform', `${secs(incIngestMs)} s / ${secs(incMs - incIngestMs)} s`);
    detailLine('  incremental load / model steps', `${secs(incSplit.loadMs)} s (${incSplit.loadFiles} file(s), ${int(incSplit.loadRows)} rows) / ${secs(incSplit.modelMs)} s`);
    for (const m of incSplit.models) detailLine(`    ${m.name}`, `${secs(m.ms)} s, ${int(m.rows)} rows out`);
    detailLine('warehouse after the runs', `bronze usage ${int(after.bronzeUsage)}, silver usage ${int(after.silverUsage)}, gold ${int(after.gold)} rows (${int(after.goldCompanies)} companies, to ${after.goldLastDate ?? '-'})`);

    console.log('\nMemory');
    detailLine('this process, peak RSS sampled every 50 ms', `${mb(memory.peak)} (${int(memory.samples)} samples)`);
    const atPeak = await stepsAt(h, memory.peakAt);
    detailLine('  steps running at that peak', atPeak.length ? atPeak.join(', ') : 'none recorded (between steps)');
    const b = memory.peakBreakdown;
    if (b) detailLine('  at that peak: V8 heap / buffers / the rest', `${mb(b.heapTotal)} (${mb(b.heapUsed)} used) / ${mb(b.external)} / ${mb(b.rss - b.heapTotal - b.external)} (native: DuckDB, code)`);
    detailLine('this process, resourceUsage().maxRSS', mb(maxRss));
    detailLine('usage API child, peak RSS', apiPeak === undefined ? 'n/a' : `${mb(apiPeak)}${apiPeakAfterIngest === undefined ? '' : ` (${mb(apiPeakAfterIngest)} by the end of the full ingest)`}`);
    detailLine('Azurite child, peak RSS', azuritePeak === undefined ? 'n/a' : mb(azuritePeak));

    if (big.length > 0) {
      console.log('\nLarge uploads (bench/bigFile.ts: the ingest alone in its process; peak RSS includes its DuckDB and Node itself)');
      for (const b of big) {
        detailLine(
          `  ${b.kind}, ${mb(b.bytes)}`,
          `${int(b.rows_total)} rows (${int(b.rows_accepted)} landed, ${int(b.rows_quarantined)} quarantined) in ${secs(b.ms)} s, ${rate(b.rows_total, b.ms)} rows/s; peak RSS ${mb(b.peakRssBytes)} (${mb(b.rssBeforeBytes)} before the ingest)`,
        );
        if (b.firstQuarantined) detailLine('    first quarantined row', `line ${b.firstQuarantined.line}: ${b.firstQuarantined.reason.slice(0, 90)}…`);
      }
      if (big.some((b) => b.rows_total !== b.rows_accepted + b.rows_quarantined)) problems.push('a large upload\'s rows total is not landed + quarantined');
    }

    console.log('\nTargets');
    if (companies * days < 3_650_000) console.log(`  (the targets are set for 10,000 companies × 365 days; at ${int(companies)} × ${days} fixed costs dominate the rates)`);
    const verdict = (met: boolean, text: string) => console.log(`  ${met ? 'met   ' : 'MISSED'}  ${text}`);
    verdict((crmRows * 1000) / crm.ms >= TARGETS.crmIngestRowsPerSecond, `CRM upload ingest ≥ 200 k rows/s: ${rate(crmRows, crm.ms)} rows/s (${int(crmRows)} in ${secs(crm.ms)} s; the tokenizer alone ${rate(parserAlone.value, parserAlone.ms)} rows/s)`);
    verdict(usageRate >= TARGETS.usageIngestRowsPerSecond, `usage ingest ≥ 300 k records/s: ${rate(usageReceived, usage.ms)} records/s (${int(usageReceived)} in ${secs(usage.ms)} s)`);
    verdict(loadRate >= TARGETS.loadRowsPerSecond, `bronze → warehouse load ≥ 1 M rows/s: ${rate(full.loadRows, full.loadMs)} rows/s (${int(full.loadRows)} in ${secs(full.loadMs)} s of load steps)`);
    verdict(full.modelMs < TARGETS.fullBuildSeconds * 1000, `silver + gold full build < 8 s: ${secs(full.modelMs)} s for ${int(fullBuildRows)} usage rows (${int(goldFull?.rows ?? 0)} gold rows)`);
    verdict(incMs < TARGETS.incrementalSeconds * 1000, `one-day incremental < 2 s: ${secs(incMs)} s end to end (ingest ${secs(incIngestMs)} s, load ${secs(incSplit.loadMs)} s, models ${secs(incSplit.modelMs)} s)`);
    verdict(peakRss < TARGETS.peakRssBytes, `peak memory < 1 GB: ${mb(peakRss)} (this process, DuckDB included)`);
    const stages = [crm, usage, transform, inc];
    const foreign = stages.reduce<number | undefined>((a, t) => (a === undefined || t.foreignCpuMs === undefined ? undefined : a + t.foreignCpuMs), 0);
    const capacity = stages.reduce((a, t) => a + t.ms, 0) * os.cpus().length;
    if (foreign !== undefined) {
      const share = (100 * foreign) / capacity;
      console.log(`  Other processes on this machine used ${secs(foreign)} s CPU during the timed stages (${share.toFixed(0)}% of its ${os.cpus().length} cores)${share >= 10 ? ': the figures are contended; run again on a quiet machine to compare' : ''}.`);
    } else {
      console.log(`  Load average at the end: ${loadAverage()} (other work on this machine skews the figures).`);
    }

    if (problems.length > 0) {
      console.error('\nThe pipeline produced inconsistent results:');
      for (const p of problems) console.error(`  - ${p}`);
      process.exitCode = 1;
    }
  } finally {
    memory.stop();
    profiler?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const stopping = await Promise.allSettled([host?.stop(), api?.stop()]);
    for (const s of stopping) if (s.status === 'rejected') console.error(`stopping failed: ${String(s.reason)}`);
    if (!args.keep) await cleanup().catch((err: unknown) => console.error(`could not remove ${dir}: ${String(err)}`));
    else console.log(`\nState kept in ${dir}`);
  }
}

interface BigFileResult {
  kind: string;
  bytes: number;
  ms: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  rows_total: number;
  rows_accepted: number;
  rows_quarantined: number;
  firstQuarantined?: { line: number; reason: string };
}

/** Runs bench/bigFile.ts in a child process and returns what it printed. */
async function runBigFile(megabytes: number, kind: 'valid' | 'unterminated'): Promise<BigFileResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIG_FILE_SCRIPT, '--mb', String(megabytes), '--kind', kind], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/bigFile.ts --kind ${kind} exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as BigFileResult;
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

function cpuText(t: Timed<unknown>): string {
  const parts = [`this process ${secs(t.cpuMs)} s`, ...Object.entries(t.childCpuMs).map(([name, ms]) => `${name} ${secs(ms)} s`)];
  if (t.foreignCpuMs !== undefined) parts.push(`other processes ${secs(t.foreignCpuMs)} s`);
  return parts.join(', ') + ' CPU';
}

/** The recorded steps running at `at` (kind: step). */
async function stepsAt(host: LocalHost, at: Date): Promise<string[]> {
  const rows = await host.ctx.warehouse.query<{ kind: string; step_name: string }>(
    `SELECT r.kind, s.step_name FROM ops.run_steps s JOIN ops.pipeline_runs r ON r.run_id = s.run_id
     WHERE s.started_at <= @at AND s.finished_at >= @at ORDER BY s.started_at`,
    { at },
  );
  return rows.map((r) => `${r.kind}: ${r.step_name.replace(/^(load \S+\/)\S+\/(\S{12})\S*$/, '$1…/$2…')}`);
}

/** Files and bytes in the bronze container under `prefix`. */
async function blobBytes(host: LocalHost, prefix: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const b of container(host.storage, 'bronze').listBlobsFlat({ prefix })) {
    files++;
    bytes += b.properties.contentLength ?? 0;
  }
  return { files, bytes };
}

async function counts(host: LocalHost): Promise<{ bronzeUsage: number; silverUsage: number; gold: number; goldCompanies: number; goldLastDate: IsoDate | null }> {
  const wh = host.ctx.warehouse;
  const [b] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM bronze.product_usage`);
  const [s] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM silver.fact_company_usage_daily`);
  const [g] = await wh.query<{ n: number; companies: number; last_date: string | null }>(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT company_id) AS companies, MAX(activity_date) AS last_date FROM gold.fact_company_activity_daily`,
  );
  return { bronzeUsage: b?.n ?? 0, silverUsage: s?.n ?? 0, gold: g?.n ?? 0, goldCompanies: g?.companies ?? 0, goldLastDate: g?.last_date ?? null };
}

main().catch((err: unknown) => {
  console.error(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
