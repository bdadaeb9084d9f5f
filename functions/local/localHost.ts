/**
 * The local stand-in for the Functions host (Core Tools cannot be installed here): it starts
 * Azurite, opens the DuckDB warehouse, and fires the same handlers the host would — queue
 * messages from the same queues (with the host's retry and poison-queue behaviour), timers,
 * and BlobCreated events for new uploads in `landing`.
 */
import './quietFunctionsTestMode.js'; // first: before anything loads @azure/functions
import funcs from '@azure/functions';
import type { DequeuedMessageItem } from '@azure/storage-queue';
import path from 'node:path';
import type { PipelineContext } from '../core/context.js';
import { consoleLog, type Log } from '../core/log.js';
import { loadSettings } from '../core/settings.js';
import { noTelemetry, type Telemetry } from '../core/telemetry.js';
import { blobCreatedEvent } from '../ingest/landingEvents.js';
import { container, createStorageClients, decodeQueueJson, ensureStorage, queue, sendJson, type QUEUES, type StorageClients } from '../storage/blobStore.js';
import { transformHandler } from '../triggers/transform.js';
import { uploadIngestHandler } from '../triggers/uploadIngest.js';
import { monitorHandler } from '../triggers/monitor.js';
import { usageIngestHandler } from '../triggers/usageIngest.js';
import { useSharedContext } from '../triggers/hostContext.js';
import { WAREHOUSE_SCHEMA } from '../domains/registry.js';
import { DuckDbWarehouse } from '../warehouse/duckdb/duckdbWarehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { startAzurite, type AzuriteHandle } from './azurite.js';

/** The host's default: a message that failed this many times goes to `<queue>-poison`. */
const MAX_DEQUEUE_COUNT = 5;

type QueueName = keyof typeof QUEUES;
type QueueHandler = (message: unknown, context: funcs.InvocationContext) => Promise<void>;

const HANDLERS: Record<QueueName, { functionName: string; handler: QueueHandler }> = {
  landingEvents: { functionName: 'uploadIngest', handler: uploadIngestHandler },
  transformRequests: { functionName: 'transform', handler: transformHandler },
};

export class LocalHost {
  private constructor(
    readonly ctx: PipelineContext,
    private readonly azurite: AzuriteHandle,
  ) {}

  /**
   * Starts Azurite (data under `<dir>/azurite`) and opens `<dir>/warehouse.duckdb`. `env` adds
   * settings on top of the process environment (e.g. the usage API address). `wrapWarehouse`
   * (tests) sees or changes what the pipeline sends to the warehouse.
   */
  static async start(options: { dir: string; env?: Record<string, string>; log?: Log; telemetry?: Telemetry; wrapWarehouse?: (wh: Warehouse) => Warehouse }): Promise<LocalHost> {
    const azurite = await startAzurite({ location: path.join(options.dir, 'azurite') });
    try {
      const settings = loadSettings({ ...process.env, ...options.env, PIPELINE_LOCAL_DIR: options.dir, AzureWebJobsStorage: azurite.connectionString, WAREHOUSE_ENGINE: 'duckdb' });
      const storage = createStorageClients(settings);
      await ensureStorage(storage);
      const opened = await DuckDbWarehouse.open(settings.duckdbPath, { schema: WAREHOUSE_SCHEMA, memoryLimit: settings.DUCKDB_MEMORY_LIMIT, threads: settings.DUCKDB_THREADS });
      const warehouse = options.wrapWarehouse ? options.wrapWarehouse(opened) : opened;
      const ctx: PipelineContext = { settings, storage, warehouse, log: options.log ?? consoleLog(), telemetry: options.telemetry ?? noTelemetry, now: () => new Date() };
      useSharedContext(ctx);
      return new LocalHost(ctx, azurite);
    } catch (err) {
      await azurite.stop();
      throw err;
    }
  }

  get storage(): StorageClients {
    return this.ctx.storage;
  }
  get connectionString(): string {
    return this.azurite.connectionString;
  }

  private invocation(functionName: string): funcs.InvocationContext {
    const log = this.ctx.log;
    return new funcs.InvocationContext({
      invocationId: `local-${Date.now()}`,
      functionName,
      logHandler: (level, ...args) => {
        const text = args.map(String).join(' ');
        if (level === 'error') log.error(text);
        else if (level === 'warning') log.warn(text);
        else log.info(text);
      },
    });
  }

  /** Uploads a file to `landing` and sends the BlobCreated event Event Grid would send. */
  async upload(landingPath: string, content: string | Buffer): Promise<void> {
    const blob = container(this.storage, 'landing').getBlockBlobClient(landingPath);
    await blob.upload(content, Buffer.byteLength(content));
    await this.notifyBlobCreated(landingPath);
  }

  /** Uploads a local file to `landing`, streaming (memory does not grow with its size), and sends its BlobCreated event. */
  async uploadFile(landingPath: string, localPath: string): Promise<void> {
    await container(this.storage, 'landing').getBlockBlobClient(landingPath).uploadFile(localPath, { blockSize: 8 * 1024 * 1024, concurrency: 2 });
    await this.notifyBlobCreated(landingPath);
  }

  async notifyBlobCreated(landingPath: string): Promise<void> {
    const url = container(this.storage, 'landing').getBlobClient(landingPath).url;
    await sendJson(queue(this.storage, 'landingEvents'), blobCreatedEvent(landingPath, url));
  }

  /** Fires the usage ingest timer once. */
  async fireUsageTimer(): Promise<void> {
    await usageIngestHandler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, this.invocation('usageIngest'));
  }

  /** Fires the monitor timer once (source freshness, poison queues). */
  async fireMonitorTimer(): Promise<void> {
    await monitorHandler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, this.invocation('monitor'));
  }

  /**
   * Processes messages of a queue until it is empty, as the host would: a failed message becomes
   * visible again and is retried, and after MAX_DEQUEUE_COUNT failures it moves to `<queue>-poison`.
   * One message at a time unless `concurrency` says more (the benchmarks drain landing events one
   * per ingest worker thread, as several instances would in Azure). Returns the number handled
   * successfully and failed attempts.
   */
  async drainQueue(name: QueueName, options: { retryDelaySeconds?: number; concurrency?: number } = {}): Promise<{ handled: number; failures: number; poisoned: number }> {
    const q = queue(this.storage, name);
    const { functionName, handler } = HANDLERS[name];
    const concurrency = Math.max(1, options.concurrency ?? 1);
    let handled = 0;
    let failures = 0;
    let poisoned = 0;
    const handle = async (m: DequeuedMessageItem) => {
      try {
        await handler(decodeQueueJson(m.messageText), this.invocation(functionName));
        await q.deleteMessage(m.messageId, m.popReceipt);
        handled++;
      } catch (err) {
        failures++;
        this.ctx.log.error(`${functionName} failed (attempt ${m.dequeueCount} of ${MAX_DEQUEUE_COUNT}): ${err instanceof Error ? err.message : String(err)}`);
        if (m.dequeueCount >= MAX_DEQUEUE_COUNT) {
          const poison = this.storage.queues.getQueueClient(`${q.name}-poison`);
          await poison.createIfNotExists();
          await poison.sendMessage(m.messageText);
          await q.deleteMessage(m.messageId, m.popReceipt);
          poisoned++;
        } else {
          await q.updateMessage(m.messageId, m.popReceipt, undefined, options.retryDelaySeconds ?? 1);
        }
      }
    };
    for (;;) {
      const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 300 });
      if (receivedMessageItems.length === 0) {
        const props = await q.getProperties();
        if ((props.approximateMessagesCount ?? 0) === 0) break;
        await new Promise((r) => setTimeout(r, 200)); // messages waiting to become visible again
        continue;
      }
      let next = 0;
      const lane = async () => {
        while (next < receivedMessageItems.length) await handle(receivedMessageItems[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, receivedMessageItems.length) }, lane));
    }
    return { handled, failures, poisoned };
  }

  async stop(): Promise<void> {
    useSharedContext(undefined);
    await this.ctx.warehouse.close();
    await this.azurite.stop();
  }
}
