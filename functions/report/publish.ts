/**
 * The report in Azure: the transform writes it to the `reports` container after each successful
 * run (`publishReport`), and `GET /api/report` serves the latest (`serveLatestReport`), with the
 * Content-Security-Policy that was computed with it and headers that keep it out of caches,
 * frames and referrers (the URL carries the function key).
 */
import type { PipelineContext } from '../core/context.js';
import { container, type StorageClients } from '../storage/blobStore.js';
import { buildReport, type ReportResult } from './report.js';

/** The blob the latest report is written to (a single upload: readers see the old one or the new one). */
export const LATEST_REPORT_BLOB = 'latest/index.html';

export interface PublishedReport {
  blob: string;
  report: ReportResult;
}

/** Builds the report from the warehouse and replaces the latest one in the `reports` container. */
export async function publishReport(ctx: Pick<PipelineContext, 'warehouse' | 'settings' | 'storage'>, runId: string): Promise<PublishedReport> {
  const report = await buildReport({ warehouse: ctx.warehouse, settings: ctx.settings });
  const body = Buffer.from(report.html, 'utf8');
  await container(ctx.storage, 'reports')
    .getBlockBlobClient(LATEST_REPORT_BLOB)
    .upload(body, body.length, {
      blobHTTPHeaders: { blobContentType: 'text/html; charset=utf-8', blobCacheControl: 'no-store' },
      // ASCII only (a metadata rule): the policy is, the dates and the run id are
      metadata: { csp: report.csp, run_id: runId, ...(report.asOf ? { as_of: report.asOf } : {}), pages: report.pages.map((p) => p.id).join(',') },
    });
  return { blob: `${container(ctx.storage, 'reports').containerName}/${LATEST_REPORT_BLOB}`, report };
}

/** What a browser needs to show a served report safely, whatever it holds. */
const SAFE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
} as const;

/** Without the policy the report was written with (a blob put there by hand): nothing may load, run or style. */
const FALLBACK_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface ServedReport {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The latest report as an HTTP response: 200 with it, or 404 saying when one will exist. */
export async function serveLatestReport(storage: StorageClients): Promise<ServedReport> {
  const blob = container(storage, 'reports').getBlobClient(LATEST_REPORT_BLOB);
  let found: { body: Buffer; metadata: Record<string, string>; lastModified?: Date };
  try {
    // one download: the body and the policy computed with it come from the same blob version
    const res = await blob.download();
    const chunks: Buffer[] = [];
    for await (const chunk of res.readableStreamBody ?? []) chunks.push(chunk as Buffer);
    found = { body: Buffer.concat(chunks), metadata: res.metadata ?? {}, ...(res.lastModified ? { lastModified: res.lastModified } : {}) };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    return {
      status: 404,
      headers: { ...SAFE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': FALLBACK_CSP },
      body: 'No report yet: the transform writes one after its first successful run.\n',
    };
  }
  return {
    status: 200,
    headers: {
      ...SAFE_HEADERS,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': found.metadata.csp ?? FALLBACK_CSP,
      ...(found.lastModified ? { 'Last-Modified': found.lastModified.toUTCString() } : {}),
    },
    body: found.body.toString('utf8'),
  };
}
