/**
 * Blob and queue storage: clients, container and queue names, and the path conventions of the
 * lake. Works against Azurite (connection string) and Azure (service URIs + managed identity).
 */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Settings } from '../core/settings.js';
import { MAX_LANDING_PATH_CHARS } from '../warehouse/catalog.js';

export const CONTAINERS = {
  /** Uploads as users drop them; never modified by the pipeline. */
  landing: 'landing',
  /** Immutable raw rows with lineage, partitioned by arrival (uploads) or activity date (pulls). */
  bronze: 'bronze',
  /** Rejected rows and files, each with its reason. */
  quarantine: 'quarantine',
  /** The HTML report, written after each successful transform run; `GET /api/report` serves it. */
  reports: 'reports',
} as const;

/**
 * The longest file path the warehouse records (`ops.file_ingests.landing_file`, the bronze
 * `_source_file` columns), `landing/` included, in UTF-16 units as NVARCHAR counts: the longest
 * landing path Azure allows (a blob name is at most 1,024 characters). Azurite allows longer
 * names; such a path is refused at ingest.
 */
export const MAX_SOURCE_FILE_CHARS = MAX_LANDING_PATH_CHARS;

export const QUEUES = {
  /** BlobCreated events for `landing` (Event Grid delivers them here; the local runner too). */
  landingEvents: 'landing-events',
  /** Date ranges for the transform, sent by both ingesters. */
  transformRequests: 'transform-requests',
} as const;

/**
 * What the function app does with each container: the Azure templates grant its identity exactly
 * this, on each container alone (the infra contract test derives the role table from it). Every
 * queue in QUEUES is read by a queue trigger, which also moves failures to `<queue>-poison`.
 */
export const CONTAINER_ACCESS = {
  landing: 'read',
  bronze: 'read-write',
  quarantine: 'read-write',
  reports: 'read-write',
} as const satisfies Record<keyof typeof CONTAINERS, 'read' | 'read-write'>;

/**
 * The name of the storage connection the pipeline and its queue triggers use. The Functions host
 * resolves a trigger's `connection` to the app settings `DataStorage__queueServiceUri`,
 * `DataStorage__credential` and `DataStorage__clientId` (or a connection string `DataStorage`).
 */
export const DATA_STORAGE_CONNECTION = 'DataStorage';

export interface StorageClients {
  blobs: BlobServiceClient;
  queues: QueueServiceClient;
}

const isConnectionString = (value: string | undefined): value is string => value !== undefined && value.includes('=');

/**
 * The pipeline's storage: a `DataStorage` connection string; else identity-based service URIs
 * (`DataStorage__blobServiceUri`, `DataStorage__queueServiceUri`: Azure); else the one account of
 * an `AzureWebJobsStorage` connection string (Azurite, local runs). Never the host's
 * identity-based account: in Azure the host's storage is not the data lake.
 */
export function createStorageClients(settings: Settings): StorageClients {
  const conn = [settings.DataStorage, settings.AzureWebJobsStorage].find(isConnectionString);
  const blobUri = settings.DataStorage__blobServiceUri;
  const queueUri = settings.DataStorage__queueServiceUri;
  if (isConnectionString(settings.DataStorage) || (!blobUri && !queueUri && conn)) {
    return { blobs: BlobServiceClient.fromConnectionString(conn!), queues: QueueServiceClient.fromConnectionString(conn!) };
  }
  if (!blobUri || !queueUri) {
    throw new Error(
      'Storage is not configured: set DataStorage__blobServiceUri and DataStorage__queueServiceUri (identity-based, as in Azure), ' +
        'or a connection string in DataStorage or, for one local account such as Azurite, AzureWebJobsStorage.',
    );
  }
  const clientId = settings.DataStorage__clientId ?? settings.AZURE_CLIENT_ID;
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
  return { blobs: new BlobServiceClient(blobUri, credential), queues: new QueueServiceClient(queueUri, credential) };
}

/** Creates the containers and queues if missing (local runs; in Azure the templates create them). */
export async function ensureStorage(clients: StorageClients): Promise<void> {
  for (const name of Object.values(CONTAINERS)) await clients.blobs.getContainerClient(name).createIfNotExists();
  for (const name of Object.values(QUEUES)) await clients.queues.getQueueClient(name).createIfNotExists();
}

export function container(clients: StorageClients, name: keyof typeof CONTAINERS): ContainerClient {
  return clients.blobs.getContainerClient(CONTAINERS[name]);
}

export function queue(clients: StorageClients, name: keyof typeof QUEUES): QueueClient {
  return clients.queues.getQueueClient(QUEUES[name]);
}

/** Sends a JSON message base64-encoded, the encoding the Functions queue trigger expects. */
export async function sendJson(q: QueueClient, message: unknown): Promise<void> {
  await q.sendMessage(Buffer.from(JSON.stringify(message), 'utf8').toString('base64'));
}

/** Decodes a queue message body: base64 JSON (what we and Event Grid send) or plain JSON. */
export function decodeQueueJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return JSON.parse(trimmed) as unknown;
  return JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8')) as unknown;
}

/**
 * Uploads a stream as one block blob: blocks are staged as the stream flows (memory holds at most
 * a few blocks), and the blob appears only when the block list is committed at the end, so
 * readers see the old content or the new, never a part. `metadata` may be a function: it is read
 * at commit time, when counts and date ranges of the content are known.
 */
export async function uploadStreamAtomically(
  c: ContainerClient,
  blobPath: string,
  body: Readable,
  options: { contentType: string; metadata?: Record<string, string> | (() => Record<string, string>); blockSize?: number },
): Promise<{ etag: string }> {
  const client = c.getBlockBlobClient(blobPath);
  const blockSize = options.blockSize ?? 4 * 1024 * 1024;
  const prefix = randomUUID();
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const stage = async (data: Buffer) => {
    const id = Buffer.from(`${prefix}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
    blockIds.push(id);
    const p = client.stageBlock(id, data, data.length);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  };
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    pending.push(buf);
    pendingBytes += buf.length;
    if (pendingBytes >= blockSize) {
      await stage(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0 || blockIds.length === 0) await stage(Buffer.concat(pending, pendingBytes));
  await Promise.all(inFlight);
  const metadata = typeof options.metadata === 'function' ? options.metadata() : options.metadata;
  const res = await client.commitBlockList(blockIds, { blobHTTPHeaders: { blobContentType: options.contentType }, metadata });
  return { etag: res.etag ?? '' };
}

/**
 * Metadata of a bronze blob: where its rows came from and when they were ingested, the same for
 * every line, so it is stored once per blob and stamped on each row by the loader. Values are
 * ASCII (a metadata rule): the source file name is URI-encoded.
 */
export function bronzeLineage(l: { source: string; sourceFile: string; ingestedAt: Date; rows: number; minDate?: string; maxDate?: string; contentSha256?: string }): Record<string, string> {
  return {
    source: l.source,
    source_file: encodeURIComponent(l.sourceFile),
    ingested_at: l.ingestedAt.toISOString(),
    row_count: String(l.rows),
    ...(l.minDate ? { min_date: l.minDate, max_date: l.maxDate ?? l.minDate } : {}),
    ...(l.contentSha256 ? { content_sha256: l.contentSha256 } : {}),
  };
}

/** Reads `bronzeLineage` back; undefined when the blob has none (not a bronze data blob). */
export function readBronzeLineage(metadata: Record<string, string> | undefined): { sourceFile: string; ingestedAt: Date } | undefined {
  if (!metadata?.source_file || !metadata.ingested_at) return undefined;
  const ingestedAt = new Date(metadata.ingested_at);
  if (Number.isNaN(ingestedAt.getTime())) return undefined;
  return { sourceFile: decodeURIComponent(metadata.source_file), ingestedAt };
}

export async function writeJsonBlob(c: ContainerClient, blobPath: string, value: unknown): Promise<void> {
  const body = JSON.stringify(value, null, 2);
  await c.getBlockBlobClient(blobPath).upload(body, Buffer.byteLength(body), {
    blobHTTPHeaders: { blobContentType: 'application/json' },
  });
}
