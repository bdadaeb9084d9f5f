/**
 * CRM company snapshot: CSV files dropped in `landing/crm_company_daily/`, one row per company
 * as the CRM saw it on `snapshot_date` (or, when the column is absent, on the day the file arrived).
 * Everything the pipeline checks about these files is declared here.
 */
import { test } from '../../../quality/dataTests.js';
import { date, defineContract, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';

export const crmCompanyDailyContract = defineContract<FileContext>()({
  source: 'crm_company_daily',
  columns: {
    // text limits count characters (code points); the warehouse columns hold twice as many UTF-16 units
    company_id: { type: text(50), description: 'the CRM id of the company' },
    name: { type: text(200), description: 'company name' },
    country: { type: text(50), nullable: true, description: 'country code or name; empty: unknown' },
    industry_tag: { type: text(100), nullable: true, description: 'industry tag; empty: none' },
    // a contact is in the past: not after the day after the file arrived, like the snapshot date
    last_contact_at: { type: timestamp, nullable: true, description: 'last CRM contact; empty: never contacted' },
    snapshot_date: {
      type: date,
      optional: true,
      whenAbsent: (file) => file.arrivalDate,
      description: 'the day the row describes; absent: the UTC date the file arrived',
    },
  },
  key: ['company_id', 'snapshot_date'],
  // Re-sent rows are normal in exports: all land, silver.dim_company keeps the file's last one.
  duplicateKeys: 'keep',
});

export const crmCompanyDaily = csvUploadSource(crmCompanyDailyContract, {
  businessDate: 'snapshot_date',
  checks: {
    // Daily exports: a missed day is worth a look, three are an outage.
    freshness: { warnAfterHours: 30, errorAfterHours: 78 },
    // the same company twice for a date within one file: the file's last row wins; worth knowing
    tests: [test.unique(['company_id', 'snapshot_date', '_source_file'], { severity: 'warn' })],
  },
});
