/**
 * `npm run upload -- <source> <file>`: puts a local CSV file through the local pipeline, as a
 * user's upload in Azure would go: into `landing/<source>/`, the BlobCreated event to the upload
 * ingest (landing → bronze, bad rows to quarantine), then the transform (every model downstream of
 * the source). State is PIPELINE_LOCAL_DIR's, as for `npm start`. Prints progress while a large
 * file is read, then the file's accounting and its domain's figures.
 *
 *   npm run upload -- crm_company_daily ./exports/crm_2026-11-30.csv
 *   npm run upload -- transactions ./exports/2022.csv --as-of 2022-12-31
 *
 * `--as-of YYYY-MM-DD` sets ANALYTICS_AS_OF_DATE for this run (the date the domain's marts are
 * computed as of); when the file brings nothing new, the models downstream of its source are
 * rebuilt over the source's dates so the marts take the date all the same.
 *
 * Exit code: 0 done, 2 bad command line (unknown source, missing file), 1 a failed run.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ProgressEvent } from '../core/context.js';
import { isIsoDate } from '../core/dates.js';
import { requestTransform } from '../transform/requests.js';
import { consoleLog, type Log } from '../core/log.js';
import { domainOf, UPLOAD_SOURCES, uploadSourceFor } from '../domains/registry.js';
import { parseCommandLine } from './cli.js';
import { LocalHost } from './localHost.js';
import { count, printDomainHeadlines, printFileAccounting, printLine, printTransformAccounting } from './summary.js';

const SOURCES = UPLOAD_SOURCES.map((s) => s.name).join(', ');
const USAGE = `usage: npm run upload -- <source> <file.csv> [--as-of YYYY-MM-DD] [--quiet]   (upload sources: ${SOURCES})`;

interface UploadArgs {
  source: string;
  file: string;
  quiet: boolean;
  asOf?: string;
}

function parse(argv: string[]): UploadArgs {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { quiet: { type: 'boolean', default: false }, 'as-of': { type: 'string' } } });
  if (positionals.length !== 2) throw new Error(positionals.length < 2 ? 'name a source and a file' : `too many arguments: ${positionals.join(' ')}`);
  const [source, file] = positionals as [string, string];
  const asOf = values['as-of'];
  if (asOf !== undefined && !isIsoDate(asOf)) throw new Error(`--as-of must be a date as YYYY-MM-DD, got "${values['as-of'] ?? ""}"`);
  return { source, file, quiet: values.quiet === true, ...(asOf ? { asOf } : {}) };
}

/** Prints progress in place: rows read, rate, quarantined so far. */
function progressPrinter(): (e: ProgressEvent) => void {
  const started = Date.now();
  const tty = process.stdout.isTTY;
  return (e) => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = e.rowsRead / seconds;
    const text = `  reading ${path.basename(e.file)}: ${count(e.rowsRead)} rows (${rate >= 10_000 ? `${count(Math.round(rate / 1000))} k` : count(Math.round(rate))} rows/s), ${count(e.rowsQuarantined)} quarantined so far`;
    if (tty) process.stdout.write(`\r${text}${e.done ? '\n' : ''}`);
    else console.log(text);
  };
}

async function main(): Promise<number> {
  const args = parseCommandLine(parse, USAGE);
  if (!args) return 2;
  // one line each, naming what exists
  if (!uploadSourceFor(args.source)) {
    console.error(`npm run upload: unknown source "${args.source}" (upload sources: ${SOURCES})`);
    return 2;
  }
  const local = path.resolve(args.file);
  const size = await stat(local).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) {
    console.error(`npm run upload: no such file "${args.file}" (upload sources: ${SOURCES})`);
    return 2;
  }
  const source = uploadSourceFor(args.source)!;
  const domain = domainOf(source.name)!;
  const dir = path.resolve(process.env.PIPELINE_LOCAL_DIR ?? '.local');
  const verbose = consoleLog('  ');
  // the summary says what happened; warnings and errors are shown as they come (--quiet: errors only)
  const log: Log = { info: () => {}, warn: (m, p) => (args.quiet ? undefined : verbose.warn(m, p)), error: (m, p) => verbose.error(m, p) };
  const since = new Date();
  const landingPath = `${source.name}/${path.basename(local)}`;

  console.log(`Upload of ${args.file} (${count(Math.round(size / 1024))} KiB) as landing/${landingPath}; domain ${domain.name}; state in ${dir}`);
  if (args.asOf) console.log(`As of ${args.asOf} (ANALYTICS_AS_OF_DATE for this run)`);
  const host = await LocalHost.start({ dir, log, ...(args.asOf ? { env: { ANALYTICS_AS_OF_DATE: args.asOf } } : {}) });
  try {
    host.ctx.progress = progressPrinter();
    await host.uploadFile(landingPath, local);
    console.log('\n[1/2] BlobCreated event → upload ingest (landing → bronze, bad rows → quarantine)');
    await host.drainQueue('landingEvents');
    console.log('[2/2] Queue → transform (bronze → silver → gold, the models downstream of the source)');
    await host.drainQueue('transformRequests');
    if (args.asOf) await rebuildForAsOf(host, source.name, since);

    console.log('\nSummary');
    const files = await printFileAccounting(host.ctx.warehouse, since, source.name);
    if (files.length === 0) printLine('file', `already ingested (the same bytes at landing/${landingPath}): nothing to do`);
    const transform = await printTransformAccounting(host.ctx.warehouse, since);
    await printDomainHeadlines(domain, host.ctx.warehouse, host.ctx.settings);
    printLine('warehouse', `${host.ctx.settings.duckdbPath} (npm run query -- "SELECT …"; npm run ops -- runs)`);
    return transform.failed > 0 || files.some((f) => f.status === 'rejected') ? 1 : 0;
  } finally {
    host.ctx.progress = undefined;
    await host.stop();
  }
}

/**
 * `--as-of` with a file that brought nothing new (already ingested): nothing was rebuilt, so the
 * models downstream of the source are, over the dates its files hold, with the date set.
 */
async function rebuildForAsOf(host: LocalHost, source: string, since: Date): Promise<void> {
  const wh = host.ctx.warehouse;
  const loaded = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.file_ingests WHERE source = @source AND status = 'loaded' AND ingested_at >= @since`, { source, since });
  if ((loaded[0]?.n ?? 0) > 0) return;
  const [range] = await wh.query<{ lo: string | null; hi: string | null }>(`SELECT MIN(min_date) AS lo, MAX(max_date) AS hi FROM ops.loaded_files WHERE source = @source`, { source });
  if (!range?.lo || !range.hi) return;
  console.log(`      nothing new in the file: rebuilding the models downstream of ${source} over ${range.lo} … ${range.hi} as of the date given`);
  await requestTransform(host.storage, 'select', { from: range.lo, to: range.hi }, 'upload --as-of', 'rebuild', `${source}+`);
  await host.drainQueue('transformRequests');
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`upload failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
