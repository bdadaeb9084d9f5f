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
import { DOMAINS } from '../domains/registry.js';
import { container } from '../storage/blobStore.js';
import { crmSampleCsv } from './sampleData.js';
import { LocalHost } from './localHost.js';
import { writeLocalApiProfile } from './localApiProfile.js';
import { startUsageApiServer } from './usageApiServer.js';
import { count, printDomainHeadlines, printFileAccounting, printLine, printTransformAccounting } from './summary.js';

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
    console.log('\n[1/4] Uploads → landing, BlobCreated events → upload ingest');
    const sample = crmSampleCsv({ seed, companies, days, endDate: yesterday });
    const crmPath = `crm_company_daily/crm_export_seed${seed}_${companies}x${days}.csv`;
    await host.upload(crmPath, sample.csv);
    // a copy on disk too: a file to upload to a deployed pipeline (docs/deploy.md, "The first upload")
    await mkdir(path.join(dir, 'samples'), { recursive: true });
    await writeFile(path.join(dir, 'samples', path.basename(crmPath)), sample.csv);
    await host.drainQueue('landingEvents');
    // the other domains' samples: several exports each, uploaded in order
    for (const domain of DOMAINS) {
      for (const file of domain.sample({ seed, endDate: yesterday })) {
        await host.upload(`${file.source}/${file.name}`, file.content);
        await writeFile(path.join(dir, 'samples', file.name), file.content);
        await host.drainQueue('landingEvents');
      }
    }

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
  console.log('');
  const files = await printFileAccounting(wh, since);
  if (files.length === 0) printLine('CRM upload', 'the file was already ingested (same bytes): nothing to do');
  const [usage] = await wh.query<{ rows_in: number | null; rows_out: number | null; rows_rejected: number | null }>(
    `SELECT SUM(rows_in) AS rows_in, SUM(rows_out) AS rows_out, SUM(rows_rejected) AS rows_rejected FROM ops.pipeline_runs WHERE kind = 'usage_ingest' AND started_at >= @since`,
    { since },
  );
  const usageRejects: string[] = [];
  for await (const b of container(host.storage, 'quarantine').listBlobsFlat({ prefix: 'product_usage/' })) {
    if ((b.properties.lastModified ?? since) >= since) usageRejects.push(`quarantine/${b.name}`);
  }
  printLine('usage pull', usage?.rows_in ? `${count(usage.rows_in)} records: ${count(usage.rows_out)} landed in bronze, ${count(usage.rows_rejected)} quarantined` : 'nothing new (watermark is at yesterday)');
  if (usageRejects.length) printLine('', `bad records: ${usageRejects.length} file(s) like ${usageRejects[0]}`);
  await printTransformAccounting(wh, since);
  for (const domain of DOMAINS) await printDomainHeadlines(domain, wh, host.ctx.settings);
  printLine('warehouse', `${host.ctx.settings.duckdbPath} (bronze.*, silver.*, gold.*, ops.* — runs in ops.pipeline_runs)`);
  console.log('\nRun `npm start` again for an incremental run; `npm run dev` keeps the local host running;');
  console.log('`npm run upload -- <source> <file>` puts a file of yours through; `npm run ops -- lineage` shows the model graph;');
  console.log('`npm run ops -- trace --company <id> --date <YYYY-MM-DD>` traces a gold row to its bronze files and lines.');
}

main().catch((err: unknown) => {
  console.error(`\nnpm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
