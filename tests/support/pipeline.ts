/** Test scaffolding: real Azurite, real warehouse, a pipeline context with a movable clock. */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { PipelineContext } from '../../functions/core/context.js';
import { memoryLog, type Log } from '../../functions/core/log.js';
import { loadSettings } from '../../functions/core/settings.js';
import { memoryTelemetry, type RecordedTelemetry } from '../../functions/core/telemetry.js';
import { startAzurite, type AzuriteHandle } from '../../functions/local/azurite.js';
import { CONTAINERS, QUEUES, bronzeLineage, createStorageClients, ensureStorage, type StorageClients } from '../../functions/storage/blobStore.js';
import { WAREHOUSE_SCHEMA } from '../../functions/domains/registry.js';
import { DuckDbWarehouse } from '../../functions/warehouse/duckdb/duckdbWarehouse.js';
import type { Warehouse } from '../../functions/warehouse/warehouse.js';
import type { TestEngine } from './engines.js';

export interface TestStorage {
  azurite: AzuriteHandle;
  storage: StorageClients;
}

export async function startTestStorage(): Promise<TestStorage> {
  const azurite = await startAzurite();
  const storage = createStorageClients(loadSettings({ AzureWebJobsStorage: azurite.connectionString }));
  await ensureStorage(storage);
  return { azurite, storage };
}

/** Empties every container and queue, so each test starts from a clean lake. */
export async function resetStorage(storage: StorageClients): Promise<void> {
  for (const name of Object.values(CONTAINERS)) {
    const c = storage.blobs.getContainerClient(name);
    for await (const b of c.listBlobsFlat()) await c.deleteBlob(b.name);
  }
  for (const name of Object.values(QUEUES)) await storage.queues.getQueueClient(name).clearMessages();
}

export interface TestContext extends PipelineContext {
  log: Log & { lines: { level: string; message: string; props?: Record<string, unknown> }[] };
  telemetry: RecordedTelemetry;
  setNow(d: Date | string): void;
}

export function testContext(opts: { storage: TestStorage; warehouse: Warehouse; env?: Record<string, string>; now?: string }): TestContext {
  let now = new Date(opts.now ?? '2024-03-01T06:00:00Z');
  const settings = loadSettings({ AzureWebJobsStorage: opts.storage.azurite.connectionString, ...opts.env });
  return {
    settings,
    storage: opts.storage.storage,
    warehouse: opts.warehouse,
    log: memoryLog(),
    telemetry: memoryTelemetry(),
    now: () => now,
    setNow: (d) => (now = new Date(d)),
  };
}

export async function putBlob(storage: StorageClients, container: keyof typeof CONTAINERS, blobPath: string, content: string): Promise<void> {
  await storage.blobs.getContainerClient(CONTAINERS[container]).getBlockBlobClient(blobPath).upload(content, Buffer.byteLength(content));
}

export async function readBlobText(storage: StorageClients, container: keyof typeof CONTAINERS, blobPath: string): Promise<string> {
  return (await storage.blobs.getContainerClient(CONTAINERS[container]).getBlobClient(blobPath).downloadToBuffer()).toString('utf8');
}

export async function listBlobs(storage: StorageClients, container: keyof typeof CONTAINERS, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for await (const b of storage.blobs.getContainerClient(CONTAINERS[container]).listBlobsFlat({ prefix })) names.push(b.name);
  return names.sort();
}

export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

/** A hash of the whole gold table in a fixed order: equal hashes, identical tables. */
export async function goldHash(wh: Warehouse): Promise<{ hash: string; rows: number }> {
  const rows = await wh.query(
    `SELECT activity_date, company_id, company_name, country, industry_tag, last_contact_at, active_users, events, active_users_7d, events_7d, is_churn_risk
     FROM gold.fact_company_activity_daily ORDER BY company_id, activity_date`,
  );
  const hash = createHash('sha256');
  for (const r of rows) hash.update(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  return { hash: hash.digest('hex'), rows: rows.length };
}

/** Writes one bronze usage file in the exact format the usage ingester writes (lines and lineage metadata). */
export async function putUsageBronzeFile(
  storage: StorageClients,
  date: string,
  records: { company_id: string; active_users: number; events: number }[],
  ingestedAt = '2024-03-01T06:00:00.000Z',
): Promise<void> {
  const blobPath = `product_usage/activity_date=${date}/usage.jsonl`;
  const text = records.map((r, i) => JSON.stringify({ ...r, activity_date: date, _row_number: i + 1 }) + '\n').join('');
  await storage.blobs.getContainerClient(CONTAINERS.bronze).getBlockBlobClient(blobPath).upload(text, Buffer.byteLength(text), {
    metadata: bronzeLineage({ source: 'product_usage', sourceFile: `bronze/${blobPath}`, ingestedAt: new Date(ingestedAt), rows: records.length, minDate: date }),
  });
}

/** Registers hooks in the calling scope: one Azurite for the file. Returns an accessor. */
export function useTestStorage(): () => TestStorage {
  let storage: TestStorage | undefined;
  beforeAll(async () => {
    storage = await startTestStorage();
  });
  afterAll(async () => {
    await storage?.azurite.stop();
  });
  return () => storage!;
}

/**
 * Registers hooks in the calling describe: a clean lake and a fresh warehouse on `engine` for
 * every test, handed to `bind` before each test (`(f) => ({ wh, storage } = f)`).
 */
export function useWarehousePerTest(engine: TestEngine, storage: () => TestStorage, bind: (fixture: { wh: Warehouse; storage: TestStorage }) => void): void {
  let wh: Warehouse | undefined;
  beforeEach(async () => {
    await resetStorage(storage().storage);
    wh = await engine.open();
    bind({ wh, storage: storage() });
  }, engine.hookTimeoutMs);
  afterEach(() => wh?.close(), engine.hookTimeoutMs);
}

/**
 * Registers hooks for an ingest suite: one Azurite for the file, and per test a clean lake and a
 * fresh in-memory DuckDB warehouse, handed to `bind` before each test (`(f) => ({ storage, warehouse } = f)`).
 */
export function useIngestFixture(bind: (fixture: { storage: TestStorage; warehouse: DuckDbWarehouse }) => void): void {
  let storage: TestStorage | undefined;
  let warehouse: DuckDbWarehouse | undefined;
  beforeAll(async () => {
    storage = await startTestStorage();
  });
  afterAll(async () => {
    await warehouse?.close();
    await storage?.azurite.stop();
  });
  beforeEach(async () => {
    await resetStorage(storage!.storage);
    await warehouse?.close();
    warehouse = await DuckDbWarehouse.open(':memory:', { schema: WAREHOUSE_SCHEMA });
    bind({ storage: storage!, warehouse });
  });
}
