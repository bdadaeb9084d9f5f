/**
 * What every handler needs, passed in explicitly so the same code runs under the Functions host,
 * the local runner, the benchmark and the tests.
 */
import type { StorageClients } from '../storage/blobStore.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { Log } from './log.js';
import type { Settings } from './settings.js';
import type { Telemetry } from './telemetry.js';

export interface PipelineContext {
  settings: Settings;
  storage: StorageClients;
  warehouse: Warehouse;
  log: Log;
  /** Metrics and events for the Azure portal (nothing locally unless a test records them). */
  telemetry: Telemetry;
  /** The clock; tests move it. */
  now: () => Date;
  /** Progress of long work (rows of a file read so far), for a command-line tool to show; unset in Azure. */
  progress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent {
  /** The file being read (landing path). */
  file: string;
  rowsRead: number;
  rowsQuarantined: number;
  /** True for the last event of the file. */
  done: boolean;
}

/**
 * Calls `ctx.progress` at most about once a second while rows are read (and once at the end).
 * Cheap enough for the row loop: the clock is read once every 4,096 calls.
 */
export function progressReporter(ctx: Pick<PipelineContext, 'progress'>, file: string): (rowsRead: number, rowsQuarantined: number, done?: boolean) => void {
  const report = ctx.progress;
  if (!report) return () => {};
  let calls = 0;
  let last = Date.now();
  return (rowsRead, rowsQuarantined, done = false) => {
    if (!done && (++calls & 4095) !== 0) return;
    const now = Date.now();
    if (!done && now - last < 1000) return;
    last = now;
    report({ file, rowsRead, rowsQuarantined, done });
  };
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: a timestamp text both DuckDB and SQL Server parse as-is. */
export function sqlTimestampText(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}
