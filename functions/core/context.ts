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
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: a timestamp text both DuckDB and SQL Server parse as-is. */
export function sqlTimestampText(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}
