/**
 * What each source is checked for once loaded: how fresh it must be (hours since its newest
 * `_ingested_at`) and the tests run over the dates each load touched. A new source adds one entry
 * (a test in tests/dataTests.test.ts fails until it does).
 */
import { crmCompanyDaily } from '../sources/crmCompanyDaily/contract.js';
import { USAGE_SOURCE } from '../sources/productUsage/contract.js';
import { test, type DataTest } from './dataTests.js';

export interface SourceChecks {
  /** Past `warnAfterHours` the source is reported late; past `errorAfterHours`, stale (alert). */
  freshness: { warnAfterHours: number; errorAfterHours: number };
  /** Run after the load stage, over the dates loaded. */
  tests: DataTest[];
}

export const SOURCE_CHECKS: Record<string, SourceChecks> = {
  // Daily CRM exports: a missed day is worth a look, three are an outage.
  [crmCompanyDaily.name]: {
    freshness: { warnAfterHours: 30, errorAfterHours: 78 },
    tests: [test.unique(['company_id', 'snapshot_date', '_source_file'], { severity: 'warn' })],
  },
  // Pulled at 02:00 UTC every day: one missed pull warns, two are an outage.
  [USAGE_SOURCE]: {
    freshness: { warnAfterHours: 26, errorAfterHours: 50 },
    tests: [test.unique(['activity_date', 'company_id'], { severity: 'warn' })],
  },
};
