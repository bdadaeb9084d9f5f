/**
 * Where a file's rows are split (`splitRows.ts`): on a worker thread for a large file, in the
 * calling thread for a small one.
 *
 * Why threads: splitting is CPU work in JavaScript (tokenise, check every field, build the bronze
 * line: ~6 µs a row), so files handled at the same time in one process — the local host drains the
 * landing queue a file per core; an Azure instance may take several messages — would otherwise
 * share one core. A worker reads and writes storage itself; only the job, the content hash
 * verdict, progress and the outcome cross threads (a few small messages per file). The warehouse
 * stays with the caller: the worker never needs it.
 *
 * `INGEST_WORKER_THREADS` sets the pool's size (default: one per core; 0 splits every file in the
 * calling thread). A worker that dies fails its file's ingest, which the queue retries; the pool
 * starts another.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { IsoDate } from '../core/dates.js';
import type { Settings } from '../core/settings.js';
import type { UploadSource } from '../sources/uploadSource.js';
import { landingDownload, NotNew, splitRows, type SplitEnv, type SplitOutcome } from './splitRows.js';
import type { ProgressEvent } from '../core/context.js';

/** How long a worker waits for its next file before it ends. */
const IDLE_WORKER_MS = 5_000;

/** Below this size a file is split in the calling thread: a hop to a worker would cost more than it saves. */
export const WORKER_MIN_BYTES = 4 * 1024 * 1024;

/** A file to split, as a worker can rebuild it from storage. */
export interface SplitJob {
  sourceName: string;
  landingPath: string;
  /** The landing blob's etag: every read is conditional on it. */
  etag: string;
  landingFile: string;
  arrivalDate: IsoDate;
  partition: string;
  ingestedAt: Date;
}

export type ToWorker =
  | { type: 'split'; id: number; job: SplitJob; settings: Settings }
  | { type: 'ready'; id: number; sha256: string }
  /** The file is not to be written: ingested before, or its hash pass failed. */
  | { type: 'not_new'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; event: ProgressEvent }
  | { type: 'done'; id: number; outcome: SplitOutcome }
  | { type: 'failed'; id: number; error: { name: string; message: string; stack?: string; statusCode?: number; code?: string } };

/**
 * Splits one file's rows. `ready` resolves with the content hash once the file is known to be new
 * (it names the blobs), or rejects with NotNew; `bytes` is the file's size.
 */
export function splitFile(env: SplitEnv, source: UploadSource, job: SplitJob, ready: Promise<string>, bytes: number): Promise<SplitOutcome> {
  const threads = ingestThreads(env.settings);
  if (threads === 0 || bytes < WORKER_MIN_BYTES) return splitRows(env, source, { ...job, ready, download: landingDownload(env.storage, job.landingPath, job.etag) });
  return poolOf(threads).run(env, job, ready);
}

/** The pool's size: `INGEST_WORKER_THREADS`, or one per core. */
export function ingestThreads(settings: Pick<Settings, 'INGEST_WORKER_THREADS'>): number {
  return settings.INGEST_WORKER_THREADS ?? os.availableParallelism();
}

const pools = new Map<number, SplitPool>();
let filesSplit = 0;

/** Files given to worker threads since the process started (tests, diagnostics). */
export function splitPoolStats(): { filesSplit: number } {
  return { filesSplit };
}

function poolOf(size: number): SplitPool {
  let pool = pools.get(size);
  if (!pool) pools.set(size, (pool = new SplitPool(size)));
  return pool;
}

interface Pending {
  job: SplitJob;
  env: SplitEnv;
  ready: Promise<string>;
  resolve: (outcome: SplitOutcome) => void;
  reject: (err: Error) => void;
  /** The hash pass failed: the worker is told to stop, and the job fails with this once it has. */
  hashError?: Error;
}

/** Up to `size` workers, one file each at a time; more files wait their turn. */
class SplitPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, number>();
  private readonly running = new Map<number, Pending>();
  private readonly waiting: { id: number; pending: Pending }[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  run(env: SplitEnv, job: SplitJob, ready: Promise<string>): Promise<SplitOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, pending: { job, env, ready, resolve, reject } });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const { id, pending } = this.waiting.shift()!;
      filesSplit++;
      this.busy.set(worker, id);
      this.running.set(id, pending);
      worker.ref(); // a file in flight keeps the process alive
      worker.postMessage({ type: 'split', id, job: pending.job, settings: pending.env.settings } satisfies ToWorker);
      pending.ready.then(
        (sha256) => worker.postMessage({ type: 'ready', id, sha256 } satisfies ToWorker),
        (err: unknown) => {
          if (!(err instanceof NotNew)) pending.hashError = err instanceof Error ? err : new Error(String(err));
          worker.postMessage({ type: 'not_new', id } satisfies ToWorker);
        },
      );
    }
  }

  private spawn(): Worker {
    const worker = startWorker(new URL(`./splitWorker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') this.running.get(m.id)?.env.progress?.(m.event);
      else if (m.type === 'done') this.settle(worker, m.id, (p) => (p.hashError ? p.reject(p.hashError) : p.resolve(m.outcome)));
      else this.settle(worker, m.id, (p) => p.reject(p.hashError ?? Object.assign(new Error(m.error.message), m.error)));
    });
    const fail = (err: Error) => {
      const id = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      if (id !== undefined) {
        this.running.get(id)?.reject(err);
        this.running.delete(id);
      }
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the ingest worker thread exited (code ${code}) while splitting a file`)));
    return worker;
  }

  /** Ends a job once (a late message of a job already ended is ignored) and frees its worker. */
  private settle(worker: Worker, id: number, end: (p: Pending) => void): void {
    const pending = this.running.get(id);
    if (!pending) return;
    this.running.delete(id);
    end(pending);
    if (this.busy.get(worker) === id) {
      this.busy.delete(worker);
      worker.unref(); // an idle pool does not keep the process alive
      this.idle.push(worker);
      this.retireWhenIdle(worker);
    }
    this.dispatch();
  }

  /**
   * A worker idle for IDLE_WORKER_MS ends, and its heap goes with it: the transform that follows
   * an ingest needs the memory more than the next file needs a warm thread (the CRM bench's peak
   * with two idle workers kept through the build: 1,022 MB, against 753–832 MB before workers).
   */
  private retireWhenIdle(worker: Worker): void {
    setTimeout(() => {
      const at = this.idle.indexOf(worker);
      if (at < 0) return; // busy again, or gone
      this.idle.splice(at, 1);
      void worker.terminate();
    }, IDLE_WORKER_MS).unref();
  }
}

/**
 * A worker on the compiled `.js`; or on the `.ts` source under tsx and vitest, with tsx registered
 * in the thread first. There the packages are imported before tsx is: its hooks on their hundreds
 * of files doubled a worker's start (1.9 → 1.0 s of CPU).
 */
function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const packages = ['@azure/storage-blob', '@azure/storage-queue', '@azure/identity', 'zod'].map((p) => `import(${JSON.stringify(p)})`).join(', ');
  const boot = `Promise.all([${packages}]).then(() => import('tsx/esm/api')).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}
