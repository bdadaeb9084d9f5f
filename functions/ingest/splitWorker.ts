/**
 * A worker thread of the split pool (`splitPool.ts`): splits the files it is given, one at a time,
 * reading and writing storage with clients of its own.
 */
import { parentPort } from 'node:worker_threads';
import type { Settings } from '../core/settings.js';
import { uploadSourceFor } from '../domains/registry.js';
import { createStorageClients, type StorageClients } from '../storage/blobStore.js';
import type { FromWorker, ToWorker } from './splitPool.js';
import { landingDownload, NotNew, splitRows } from './splitRows.js';

const port = parentPort;
if (!port) throw new Error('splitWorker.ts runs as a worker thread of the split pool');

/** Storage clients by the settings that name the account (one set per account, reused). */
const clients = new Map<string, StorageClients>();
function storageFor(settings: Settings): StorageClients {
  const key = JSON.stringify([settings.DataStorage, settings.AzureWebJobsStorage, settings.DataStorage__blobServiceUri, settings.DataStorage__queueServiceUri, settings.DataStorage__clientId, settings.AZURE_CLIENT_ID]);
  let c = clients.get(key);
  if (!c) clients.set(key, (c = createStorageClients(settings)));
  return c;
}

/** The content hash verdict of each job in flight, settled by the caller's messages. */
const verdicts = new Map<number, { resolve: (sha256: string) => void; reject: (err: Error) => void }>();
const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'ready') verdicts.get(m.id)?.resolve(m.sha256);
  else if (m.type === 'not_new') verdicts.get(m.id)?.reject(new NotNew());
  else void split(m);
});

async function split({ id, job, settings }: ToWorker & { type: 'split' }): Promise<void> {
  const ready = new Promise<string>((resolve, reject) => verdicts.set(id, { resolve, reject }));
  ready.catch(() => undefined); // splitRows handles it
  try {
    const source = uploadSourceFor(job.sourceName);
    if (!source) throw new Error(`no upload source is registered as ${job.sourceName}`);
    const storage = storageFor(settings);
    const download = landingDownload(storage, job.landingPath, job.etag);
    const outcome = await splitRows({ settings, storage, progress: (event) => send({ type: 'progress', id, event }) }, source, { ...job, ready, download });
    send({ type: 'done', id, outcome });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const { statusCode, code } = e as { statusCode?: unknown; code?: unknown };
    send({
      type: 'failed',
      id,
      error: { name: e.name, message: e.message, stack: e.stack, ...(typeof statusCode === 'number' ? { statusCode } : {}), ...(typeof code === 'string' ? { code } : {}) },
    });
  } finally {
    verdicts.delete(id);
  }
}
