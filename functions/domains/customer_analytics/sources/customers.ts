/**
 * Customers: CSV exports dropped in `landing/customers/`, one row per customer as the source system
 * knew it at `updated_at`. A customer whose attributes change in a later file gets a new version
 * of `gold.dim_customer` (SCD type 2). Everything the pipeline checks about these files is here.
 */
import { test } from '../../../quality/dataTests.js';
import { date, decimal, defineContract, integer, text, timestamp, within } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';

/** Largest credit limit a row may carry (decimal(12, 2) holds ten digits before the point). */
export const MAX_CREDIT_LIMIT = 10_000_000;

export const customersContract = defineContract<FileContext>()({
  source: 'customers',
  columns: {
    customer_id: { type: text(50), description: 'the customer id, as in the transactions' },
    first_name: { type: text(100), nullable: true, description: 'first name' },
    last_name: { type: text(100), nullable: true, description: 'last name' },
    email: { type: text(254), nullable: true, description: 'e-mail address (not checked beyond its length)' },
    age: { type: integer({ min: 0, max: 130 }), nullable: true, description: 'age in years' },
    state: { type: text(100), nullable: true, description: 'state or region' },
    city: { type: text(100), nullable: true, description: 'city' },
    employment_status: { type: text(50), nullable: true, description: 'employment status as the source names it' },
    card_type: { type: text(50), nullable: true, description: 'card type (e.g. Visa, Mastercard)' },
    credit_limit: { type: decimal(12, 2, { min: 0, max: MAX_CREDIT_LIMIT }), nullable: true, description: 'credit limit, 0 … 10,000,000' },
    // an account may be decades old: before INGEST_EARLIEST_DATE
    account_open_date: { type: within(date, { earliest: '1900-01-01' }), nullable: true, description: 'the day the account was opened (from 1900-01-01)' },
    customer_segment: { type: text(50), nullable: true, description: "the source's own segment label (kept as an attribute; the pipeline's segments are computed)" },
    decline_type: { type: text(50), nullable: true, description: 'the source\'s decline type label, if any' },
    updated_at: {
      type: timestamp,
      optional: true,
      whenAbsent: (file) => file.arrivalDate,
      description: 'when the source last changed the row (offsets → UTC); absent: the UTC date the file arrived. Its UTC date starts the version',
    },
  },
  key: ['customer_id', 'updated_at'],
  // Re-sent rows are normal: all land; the latest file wins for a customer and updated_at.
  duplicateKeys: 'keep',
});

export const customers = csvUploadSource(customersContract, {
  businessDate: 'updated_at',
  checks: {
    // exports of changed customers, daily at best: a quiet week is worth a look
    freshness: { warnAfterHours: 8 * 24, errorAfterHours: 31 * 24, expectedFrom: 'own' },
    tests: [test.unique(['customer_id', 'updated_at', '_source_file'], { severity: 'warn' })],
  },
});
