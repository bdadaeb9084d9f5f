/**
 * `GET /api/report` (function key, like the ops endpoints): the latest HTML report from the
 * `reports` container, which the transform writes after each successful run. It reads one blob
 * and nothing else: no warehouse connection is opened (a paused Azure SQL stays paused).
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadSettings } from '../core/settings.js';
import { serveLatestReport } from '../report/publish.js';
import { createStorageClients, type StorageClients } from '../storage/blobStore.js';
import { invocationLog } from './hostContext.js';

let storage: StorageClients | undefined;

export async function reportHandler(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    storage ??= createStorageClients(loadSettings());
    return await serveLatestReport(storage);
  } catch (err) {
    invocationLog(context).error(`report: could not read the latest report: ${err instanceof Error ? err.message : String(err)}`);
    return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body: 'The report could not be read; see the function logs.\n' };
  }
}

app.http('report', { methods: ['GET'], authLevel: 'function', route: 'report', handler: reportHandler });
