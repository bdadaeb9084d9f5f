/**
 * `npm run dev`: the local host, running until Ctrl-C. It watches the `landing` container (and
 * the folder `<PIPELINE_LOCAL_DIR>/inbox/<source>/`, uploading what you drop there), fires the
 * usage timer on its NCRONTAB schedule, and processes both queues, like the Functions host would.
 *
 *   npm run dev -- --seed 42 --companies 50 [--poll-seconds 2]
 */
import { Cron } from 'croner';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { consoleLog } from '../core/log.js';
import { UPLOAD_SOURCES } from '../domains/registry.js';
import { container } from '../storage/blobStore.js';
import { LocalHost } from './localHost.js';
import { startUsageApiServer } from './usageApiServer.js';

const { values: args } = parseArgs({
  options: {
    companies: { type: 'string', default: '50' },
    seed: { type: 'string', default: '42' },
    'poll-seconds': { type: 'string', default: '2' },
  },
});

async function main(): Promise<void> {
  const dir = path.resolve(process.env.PIPELINE_LOCAL_DIR ?? '.local');
  const pollMs = Math.max(0.5, Number(args['poll-seconds'])) * 1000;
  const log = consoleLog('  ');
  const env: Record<string, string> = {};
  let stopApi: (() => Promise<void>) | undefined;
  if (!process.env.USAGE_API_BASE_URL) {
    const token = randomBytes(16).toString('hex');
    const api = await startUsageApiServer({ seed: Number(args.seed), companies: Number(args.companies), token, badRecordRate: 0.002 });
    Object.assign(env, { USAGE_API_BASE_URL: api.url, USAGE_API_TOKEN: token });
    stopApi = () => api.stop();
  }
  const host = await LocalHost.start({ dir, env, log });
  const inbox = path.join(dir, 'inbox');
  for (const s of UPLOAD_SOURCES) await mkdir(path.join(inbox, s.name), { recursive: true });

  const schedule = host.ctx.settings.USAGE_INGEST_SCHEDULE;
  console.log(`Local host running (state in ${dir}). Ctrl-C stops it.
  landing:     drop CSV files into ${inbox}/<source>/ or upload to the landing container
  storage:     ${host.connectionString.replace(/AccountKey=[^;]+;/, 'AccountKey=<Azurite development key>;')}
  usage timer: "${schedule}" (NCRONTAB, UTC)${env.USAGE_API_BASE_URL ? `; local usage API at ${env.USAGE_API_BASE_URL}` : ''}
  monitor:     "${host.ctx.settings.MONITOR_SCHEDULE}" (freshness, poison queues)`);

  const seen = new Map<string, string>(); // landing blob → etag already announced
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await uploadInbox(host, inbox);
      for await (const b of container(host.storage, 'landing').listBlobsFlat()) {
        const etag = b.properties.etag ?? '';
        if (seen.get(b.name) === etag) continue;
        seen.set(b.name, etag);
        await host.notifyBlobCreated(b.name); // the ingest itself skips what it already has
      }
      await host.drainQueue('landingEvents');
      await host.drainQueue('transformRequests');
    } catch (err) {
      log.error(`local host tick failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      busy = false;
    }
  };
  const timer = new Cron(schedule, { timezone: 'UTC', protect: true }, async () => {
    log.info('timer fired: usageIngest');
    await host.fireUsageTimer().catch((err: unknown) => log.error(`usageIngest failed: ${err instanceof Error ? err.message : String(err)}`));
    await tick();
  });
  const monitor = new Cron(host.ctx.settings.MONITOR_SCHEDULE, { timezone: 'UTC', protect: true }, async () => {
    await host.fireMonitorTimer().catch((err: unknown) => log.error(`monitor failed: ${err instanceof Error ? err.message : String(err)}`));
  });
  const interval = setInterval(() => void tick(), pollMs);
  await tick();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('\nstopping…');
  clearInterval(interval);
  timer.stop();
  monitor.stop();
  while (busy) await new Promise((r) => setTimeout(r, 100));
  await host.stop();
  await stopApi?.();
}

/** Uploads files dropped in the inbox to `landing/<source>/…`, then moves them to `done/`. */
async function uploadInbox(host: LocalHost, inbox: string): Promise<void> {
  for (const s of UPLOAD_SOURCES) {
    const folder = path.join(inbox, s.name);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(folder, entry.name);
      const content = await readFile(file);
      await container(host.storage, 'landing').getBlockBlobClient(`${s.name}/${entry.name}`).upload(content, content.length);
      await mkdir(path.join(folder, 'done'), { recursive: true });
      await rename(file, path.join(folder, 'done', entry.name));
    }
  }
}

main().catch((err: unknown) => {
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
