/**
 * Every source the pipeline knows. The landing folder name selects the upload source; adding a
 * CSV source is its contract file and one line in `UPLOAD_SOURCES`.
 */
import { crmCompanyDaily } from './crmCompanyDaily/contract.js';
import { USAGE_SOURCE, usageChecks } from './productUsage/contract.js';
import type { SourceChecks } from '../quality/sourceChecks.js';
import { TABLES, type TableDef } from '../warehouse/catalog.js';
import type { UploadSource } from './uploadSource.js';

export const UPLOAD_SOURCES: readonly UploadSource[] = [crmCompanyDaily];

export function uploadSourceFor(folder: string): UploadSource | undefined {
  return UPLOAD_SOURCES.find((s) => s.name === folder);
}

/** A bronze table the transform loads from bronze blobs under `bronze/<name>/`. */
export interface BronzeSource {
  name: string;
  table: TableDef;
  /** The business date of a row: which dates a loaded file affects. */
  dateColumn: string;
  /** Freshness limits (the monitor) and the tests run after each load. */
  checks: SourceChecks;
}

export const BRONZE_SOURCES: readonly BronzeSource[] = [
  ...UPLOAD_SOURCES.map((s) => ({ name: s.name, table: s.bronzeTable, dateColumn: s.businessDate, checks: s.checks })),
  { name: USAGE_SOURCE, table: TABLES.bronzeProductUsage, dateColumn: 'activity_date', checks: usageChecks },
];
