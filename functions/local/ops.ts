/**
 * `npm run ops -- <operation> [--flags]`: the operations of the HTTP functions, run against the
 * local pipeline (Azurite data and the DuckDB warehouse under PIPELINE_LOCAL_DIR, as `npm start`
 * leaves them). After an operation that asks for a transform, the transform runs here, as the
 * host's queue trigger would, unless `--no-transform`.
 *
 *   npm run ops -- runs [--limit 20] [--kind transform] [--status failed] [--run-id <id>]
 *   npm run ops -- freshness
 *   npm run ops -- trace --company C000001 --date 2026-11-01
 *   npm run ops -- backfill --from 2026-11-01 --to 2026-11-03 [--reason "…"]
 *   npm run ops -- replay --file bronze/product_usage/activity_date=2026-11-01/usage.jsonl
 *   npm run ops -- rerun --from 2026-11-01 --to 2026-11-30 [--source product_usage | --select <selector>]
 *   npm run ops -- lineage [--select +gold.fact_company_activity_daily]
 *   npm run ops -- quarantine --file bronze/crm_company_daily/ingest_date=…/….jsonl --reason "…"
 *
 * Add `--json` for the raw answer. Exit code: 0 done, 2 bad request, 1 failure.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { consoleLog } from '../core/log.js';
import { lineageText, type LineageBody } from '../ops/lineage.js';
import { lineageOperation, OPERATION_NAMES, runOperation, type OperationName } from '../ops/operations.js';
import { LocalHost } from './localHost.js';
import { readLocalApiProfile } from './localApiProfile.js';
import { startUsageApiServer, type UsageApiServer } from './usageApiServer.js';
import { parseCommandLine } from './cli.js';

const USAGE = `usage: npm run ops -- <${OPERATION_NAMES.join('|')}> [--flags]   (see functions/local/ops.ts or the README)`;

/** CLI flag → operation field. Values are passed as given; the operation's schema validates them. */
const FLAGS = {
  limit: 'limit',
  kind: 'kind',
  status: 'status',
  'run-id': 'runId',
  from: 'from',
  to: 'to',
  reason: 'reason',
  file: 'file',
  source: 'source',
  company: 'company',
  date: 'date',
  select: 'select',
} as const;

function parse(argv: string[]): { name: OperationName; input: Record<string, string>; json: boolean; transform: boolean; seed?: string; companies?: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
      json: { type: 'boolean', default: false },
      'no-transform': { type: 'boolean', default: false },
      // the local usage API for a backfill (default: what the last `npm start` used)
      seed: { type: 'string' },
      companies: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (positionals.length !== 1 || !OPERATION_NAMES.includes(name as OperationName)) throw new UsageError(positionals.length ? `unknown operation "${positionals.join(' ')}"` : 'no operation given');
  const input: Record<string, string> = {};
  for (const [flag, field] of Object.entries(FLAGS)) {
    const v = (values as Record<string, unknown>)[flag];
    if (typeof v === 'string') input[field] = v;
  }
  return {
    name: name as OperationName,
    input,
    json: values.json === true,
    transform: values['no-transform'] !== true,
    seed: values.seed,
    companies: values.companies,
  };
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const args = parseCommandLine(parse, USAGE);
  if (!args) return 2;
  if (args.name === 'lineage') {
    const result = lineageOperation(args.input);
    print(args.name, result.body, args.json);
    return result.status === 200 ? 0 : 2;
  }
  const dir = path.resolve(process.env.PIPELINE_LOCAL_DIR ?? '.local');
  // A backfill needs the usage API: without a configured one, the local stand-in `npm start` uses.
  let api: UsageApiServer | undefined;
  const env: Record<string, string> = {};
  if (args.name === 'backfill' && !process.env.USAGE_API_BASE_URL) {
    const token = randomBytes(16).toString('hex');
    const last = await readLocalApiProfile(dir);
    const seed = Number(args.seed ?? last.seed);
    const companies = Number(args.companies ?? last.companies);
    if (!Number.isInteger(seed) || !Number.isInteger(companies) || seed <= 0 || companies <= 0) {
      console.error(`--seed and --companies must be positive whole numbers\n${USAGE}`);
      return 2;
    }
    api = await startUsageApiServer({ seed, companies, token, badRecordRate: last.badRecordRate });
    Object.assign(env, { USAGE_API_BASE_URL: api.url, USAGE_API_TOKEN: token });
  }
  const log = consoleLog('  ');
  const host = await LocalHost.start({ dir, env, log: { info: () => {}, warn: (m, p) => log.warn(m, p), error: (m, p) => log.error(m, p) } });
  try {
    const result = await runOperation(host.ctx, args.name, args.input);
    print(args.name, result.body, args.json);
    if (result.status >= 400) return result.status === 400 || result.status === 404 ? 2 : 1;
    if (args.transform && (result.status === 202 || args.name === 'backfill')) {
      const drained = await host.drainQueue('transformRequests');
      const [latest] = await host.ctx.warehouse.query<{ run_id: string; status: string; error: string | null }>(
        `SELECT run_id, status, error FROM ops.pipeline_runs WHERE kind = 'transform' AND started_at = (SELECT MAX(started_at) FROM ops.pipeline_runs WHERE kind = 'transform')`,
      );
      console.log(`\ntransform: ${drained.handled} request(s) handled; latest run ${latest ? `${latest.run_id} ${latest.status}${latest.error ? `: ${latest.error}` : ''}` : 'none'}`);
      if (drained.failures > 0 || latest?.status === 'failed') return 1;
    }
    return 0;
  } finally {
    await host.stop();
    await api?.stop();
  }
}

function print(name: OperationName, body: unknown, json: boolean): void {
  if (json || typeof body !== 'object' || body === null || 'error' in body) {
    console.log(JSON.stringify(body, null, 2));
    return;
  }
  if (name === 'runs') return printRuns(body as RunsBody);
  if (name === 'trace') return printTrace(body as TraceBody);
  if (name === 'freshness') return printFreshness(body as FreshnessBody);
  if (name === 'lineage') return console.log(lineageText(body as LineageBody));
  console.log(JSON.stringify(body, null, 2));
}

type RunsBody = {
  runs: {
    runId: string;
    kind: string;
    trigger: string;
    status: string;
    startedAt: Date | string;
    durationMs: number | null;
    rowsIn: number | null;
    rowsOut: number | null;
    rowsRejected: number | null;
    error: string | null;
    steps: { seq: number; name: string; status: string; durationMs: number | null; rowsIn: number | null; rowsOut: number | null; rowsRejected: number | null; error: string | null }[];
    dataTestProblems: { testId: string; status: string; message: string | null }[];
  }[];
};

const rows = (i: number | null, o: number | null, r: number | null) => `in ${i ?? '-'} out ${o ?? '-'}${r ? ` rejected ${r}` : ''}`;
const ms = (v: number | null) => (v === null ? '-' : `${(v / 1000).toFixed(1)} s`);

function printRuns(body: RunsBody): void {
  if (body.runs.length === 0) console.log('no runs recorded');
  for (const r of body.runs) {
    const started = r.startedAt instanceof Date ? r.startedAt.toISOString() : String(r.startedAt);
    console.log(`${started}  ${r.kind.padEnd(15)} ${r.status.padEnd(9)} ${ms(r.durationMs).padStart(7)}  ${rows(r.rowsIn, r.rowsOut, r.rowsRejected)}  ${r.trigger}  [${r.runId}]`);
    if (r.error) console.log(`    error: ${r.error}`);
    for (const s of r.steps) console.log(`    ${String(s.seq).padStart(3)} ${s.status.padEnd(9)} ${ms(s.durationMs).padStart(7)}  ${s.name}  (${rows(s.rowsIn, s.rowsOut, s.rowsRejected)})${s.error ? `  error: ${s.error}` : ''}`);
    for (const p of r.dataTestProblems) console.log(`    data test ${p.status}: ${p.testId}: ${p.message ?? ''}`);
  }
}

type TraceBody = {
  gold: Record<string, unknown>;
  crm: { validFrom: string; validTo: string; landingFile: string; line: number; bronzeFiles: string[] } | null;
  usage: { activityDate: string; activeUsers: number; events: number; bronzeFile: string; line: number; feeds: string }[];
};

function printTrace(body: TraceBody): void {
  const g = body.gold;
  console.log(`gold.fact_company_activity_daily  ${String(g.company_id)} on ${String(g.activity_date)}`);
  for (const [k, v] of Object.entries(g)) console.log(`  ${k.padEnd(16)} ${v instanceof Date ? v.toISOString() : String(v)}`);
  console.log('\nCRM attributes (silver.dim_company version) came from:');
  if (body.crm) {
    console.log(`  ${body.crm.landingFile}, line ${body.crm.line}  (valid ${body.crm.validFrom} .. ${body.crm.validTo})`);
    for (const b of body.crm.bronzeFiles) console.log(`  carried in ${b} (the JSON line with "_row_number":${body.crm.line})`);
  } else console.log('  none: the CRM has not sent this company (attributes are empty)');
  console.log('\nUsage rows in its windows (silver.fact_company_usage_daily) came from:');
  if (body.usage.length === 0) console.log('  none: no usage in the window (zeros)');
  for (const u of body.usage) console.log(`  ${u.activityDate}  users ${u.activeUsers}  events ${u.events}  ← ${u.bronzeFile}, line ${u.line}  (${u.feeds})`);
}

type FreshnessBody = { checkedAt: string; sources: { source: string; status: string; lagHours: number | null; latestIngestedAt: string | null; latestBusinessDate: string | null; message: string }[] };

function printFreshness(body: FreshnessBody): void {
  console.log(`freshness at ${body.checkedAt}`);
  for (const s of body.sources) console.log(`  ${s.source.padEnd(20)} ${s.status.padEnd(6)} latest data ${s.latestBusinessDate ?? '-'}; ${s.message}`);
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`ops failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
