/**
 * One large CRM upload through the upload ingest, in a process of its own, so its peak memory is
 * the ingest's alone (its own Azurite and DuckDB in a temp directory; the file is generated and
 * uploaded as a stream, never held in memory). `npm run bench` runs it twice (a valid file and one
 * with an unterminated quote on line 3); it also runs alone:
 *
 *   npx tsx bench/bigFile.ts --mb 300 --kind unterminated     prints one JSON line with the figures
 *
 * Memory must not grow with the file: the ingest streams, and the unterminated quote costs one
 * quarantined line (INGEST_MAX_RECORD_CHARS bounds how far the tokenizer looks for its end).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { addDays, toIsoDate } from '../functions/core/dates.js';
import { silentLog } from '../functions/core/log.js';
import { LocalHost } from '../functions/local/localHost.js';
import { container, uploadStreamAtomically } from '../functions/storage/blobStore.js';

const { values: args } = parseArgs({ options: { mb: { type: 'string', default: '300' }, kind: { type: 'string', default: 'unterminated' } } });
const MB = 1024 * 1024;

/** The file as ~1 MB chunks: a header, then rows of 500 companies per snapshot date, going back one day per block. */
function* csvChunks(bytes: number, unterminated: boolean): Generator<Buffer> {
  const yesterday = addDays(toIsoDate(new Date()), -1);
  let text = 'company_id,name,country,industry_tag,last_contact_at,snapshot_date\n';
  text += `C999999,"Acme, Inc",DE,saas,2024-01-02T10:00:00Z,${yesterday}\n`;
  if (unterminated) text += `C999998,"Globex with a quote that never closes,FR,retail,,${yesterday}\n`;
  let sent = 0;
  for (let day = 0; sent < bytes; day++) {
    const date = addDays(yesterday, -(day % 3000));
    for (let c = 0; c < 500; c++) {
      const id = `C${String(c).padStart(6, '0')}`;
      text += c % 3 === 0 ? `${id},"Initech Holdings, Inc ${c}",US,,2024-01-0${1 + (c % 9)}T09:30:00Z,${date}\n` : `${id},Hooli GmbH ${c},DE,media,,${date}\n`;
    }
    if (text.length >= MB) {
      // the last chunk ends at a line break, so the valid file stays valid
      const room = bytes - sent;
      const chunk = Buffer.from(text.length <= room ? text : text.slice(0, text.lastIndexOf('\n', room - 1) + 1));
      if (chunk.length === 0) return;
      sent += chunk.length;
      text = '';
      yield chunk;
    }
  }
}

async function main(): Promise<void> {
  const bytes = Number(args.mb) * MB;
  const unterminated = args.kind === 'unterminated';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-bigfile-'));
  const host = await LocalHost.start({ dir, log: silentLog, env: { DUCKDB_PATH: path.join(dir, 'warehouse.duckdb') } });
  try {
    const landingPath = `crm_company_daily/big-${args.kind}.csv`;
    await uploadStreamAtomically(container(host.storage, 'landing'), landingPath, Readable.from(csvChunks(bytes, unterminated)), { contentType: 'text/csv' });
    const rssBefore = process.memoryUsage().rss;
    await host.notifyBlobCreated(landingPath);
    const t0 = performance.now();
    const drained = await host.drainQueue('landingEvents', { retryDelaySeconds: 1 });
    const ms = performance.now() - t0;
    if (drained.failures > 0) throw new Error(`the upload ingest failed ${drained.failures} time(s)`);
    const [ingest] = await host.ctx.warehouse.query<{ status: string; rows_total: number; rows_accepted: number; rows_quarantined: number; reason: string | null; quarantine_file: string | null }>(
      `SELECT status, rows_total, rows_accepted, rows_quarantined, reason, quarantine_file FROM ops.file_ingests`,
    );
    let firstQuarantined: unknown;
    if (ingest?.quarantine_file) {
      const blob = container(host.storage, 'quarantine').getBlobClient(ingest.quarantine_file.replace(/^quarantine\//, ''));
      const head = (await blob.downloadToBuffer()).toString('utf8');
      firstQuarantined = JSON.parse(head.slice(0, head.indexOf('\n'))) as unknown;
    }
    console.log(
      JSON.stringify({
        kind: args.kind,
        bytes,
        ms,
        rssBeforeBytes: rssBefore,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        ...ingest,
        firstQuarantined,
      }),
    );
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
