/**
 * Every source the pipeline knows. The landing folder name selects the upload source; adding a
 * CSV source is its contract file and one line in `UPLOAD_SOURCES`.
 */
import { crmCompanyDaily } from './crmCompanyDaily/contract.js';
import { USAGE_SOURCE } from './productUsage/contract.js';
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
}

export const BRONZE_SOURCES: readonly BronzeSource[] = [
  ...UPLOAD_SOURCES.map((s) => ({ name: s.name, table: s.bronzeTable, dateColumn: s.businessDate })),
  { name: USAGE_SOURCE, table: TABLES.bronzeProductUsage, dateColumn: 'activity_date' },
];
