/**
 * What a source is checked for once loaded, declared in its contract file beside its columns:
 * how fresh it must be (hours since its newest `_ingested_at`, checked by the monitor) and the
 * data tests run after each load over the dates it touched.
 */
import type { DataTest } from './dataTests.js';

export interface SourceChecks {
  /** Past `warnAfterHours` the source is reported late; past `errorAfterHours`, stale (alert). */
  freshness: { warnAfterHours: number; errorAfterHours: number };
  /** Run after the load stage, over the dates loaded (on the bronze table). */
  tests: DataTest[];
}
