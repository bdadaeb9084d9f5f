/**
 * `npm run report [-- --out <file>] [--screenshot <file.png> [--page <id>]]`: writes the HTML
 * report of the local warehouse to `<PIPELINE_LOCAL_DIR>/report/index.html` (default
 * `.local/report/index.html`), one file that needs no network to open. `--screenshot` also saves
 * a picture of one page (default the executive summary) taken by the system's Chromium. Stop
 * `npm run dev` first: DuckDB lets one process open the file.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSettings } from '../core/settings.js';
import { WAREHOUSE_SCHEMA } from '../domains/registry.js';
import { buildReport } from '../report/report.js';
import { DuckDbWarehouse } from '../warehouse/duckdb/duckdbWarehouse.js';
import { parseCommandLine } from './cli.js';

const USAGE = 'usage: npm run report [-- --out <file.html>] [--screenshot <file.png> [--page <page id>]]';

async function main(): Promise<void> {
  const args = parseCommandLine((argv) => parseArgs({ args: argv, options: { out: { type: 'string' }, screenshot: { type: 'string' }, page: { type: 'string' } } }).values, USAGE);
  if (!args) {
    process.exitCode = 2;
    return;
  }
  const settings = loadSettings();
  if (!existsSync(settings.duckdbPath)) throw new Error(`no warehouse at ${settings.duckdbPath}: run npm start first (or set PIPELINE_LOCAL_DIR)`);
  const out = path.resolve(args.out ?? path.join(settings.PIPELINE_LOCAL_DIR, 'report', 'index.html'));
  const wh = await DuckDbWarehouse.open(settings.duckdbPath, { schema: WAREHOUSE_SCHEMA, memoryLimit: settings.DUCKDB_MEMORY_LIMIT });
  try {
    const report = await buildReport({ warehouse: wh, settings });
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, report.html);
    for (const p of report.pages) console.log(`  ${p.title.padEnd(26)} as of ${p.asOf.slice(0, 16).replace('T', ' ')}, data ${p.range.from} … ${p.range.to} (${p.ms} ms)`);
    for (const p of report.withoutData) console.log(`  ${p.title.padEnd(26)} left out: no data yet`);
    for (const p of report.failed) console.error(`  ${p.title.padEnd(26)} FAILED: ${p.error}`);
    console.log(`Report written to ${out}: ${(report.bytes / 1024).toFixed(0)} KB in ${(report.ms / 1000).toFixed(2)} s. Open it in a browser (file://${out}).`);
    if (args.screenshot) await screenshot(out, path.resolve(args.screenshot), args.page);
    if (report.failed.length) process.exitCode = 1;
  } finally {
    await wh.close();
  }
}

/** A full-page picture of one page of the written report, by the system's Chromium (README's screenshot). */
async function screenshot(file: string, png: string, page?: string): Promise<void> {
  const { chromiumAvailable, launchChromium, CHROMIUM_PATH } = await import('./browser.js');
  if (!chromiumAvailable()) throw new Error(`--screenshot needs ${CHROMIUM_PATH} (apt-get install chromium)`);
  const browser = await launchChromium({ width: 1280, height: 800 });
  try {
    const tab = await browser.context.newPage();
    await tab.goto(`${pathToFileURL(file).href}${page ? `#${page}` : ''}`);
    await tab.screenshot({ path: png, fullPage: true });
    console.log(`Screenshot of ${page ?? 'the first page'} saved to ${png}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(`report failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
