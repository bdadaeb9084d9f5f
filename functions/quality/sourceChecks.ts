/**
 * What a source is checked for once loaded, declared in its contract file beside its columns:
 * how fresh it must be (hours since its newest `_ingested_at`, checked by the monitor) and the
 * data tests run after each load over the dates it touched.
 */
import type { DataTest } from './dataTests.js';

export interface SourceChecks {
  /**
   * Past `warnAfterHours` the source is reported late; past `errorAfterHours`, stale (alert).
   * A source that has never delivered is checked from when it is expected (`expectedFrom`):
   * `domain` (the default) once any source of its domain has delivered — a domain nobody feeds
   * is not in use, and its sources are not checked; `own` only once it has delivered itself — a
   * feed a deployment may not have at all (the customer domain's: a shop sends what it has).
   */
  freshness: { warnAfterHours: number; errorAfterHours: number; expectedFrom?: 'domain' | 'own' };
  /** Run after the load stage, over the dates loaded (on the bronze table). */
  tests: DataTest[];
}
