/**
 * The product-usage API contract: what `GET {base}/v1/usage` answers. Records are declared as a
 * source contract (columns, types, key, rules), the page envelope as zod schemas. The local
 * server (functions/local/usageApiServer.ts), the client and the tests all build on this file;
 * docs/usage-api.md describes the same contract in prose.
 */
import { test } from '../../../../quality/dataTests.js';
import type { SourceChecks } from '../../../../quality/sourceChecks.js';
import { z } from 'zod';
import type { IsoDate } from '../../../../core/dates.js';
import type { BronzeSource } from '../../../domain.js';
import { bigint, BRONZE_LINEAGE, date as dateColumn, int, req, string } from '../../../../warehouse/catalog.js';
import { date, DEFAULT_DATE_WINDOW, defineContract, integer, text, type DateWindow, type RowOf } from '../../../../sources/contract.js';
import { compileJsonContract, type JsonFile, type JsonRecordCheck } from '../../../../sources/jsonContract.js';

/** Source name: watermark key, bronze / quarantine folder, transform request source. */
export const USAGE_SOURCE = 'product_usage';

/** API path, relative to the configured base URL. */
export const USAGE_API_PATH = '/v1/usage';

/** Largest `page_size` the API accepts. */
export const MAX_PAGE_SIZE = 10_000;

/** The widest window gold sums `active_users` over: CHURN_INACTIVE_DAYS at its maximum. */
export const WIDEST_USAGE_WINDOW_DAYS = 366;

/**
 * Most active users of one company on one day: 5 million (more people than work for any company
 * in the world), so that a sum over the widest window still fits gold's INT columns
 * (5,000,000 × 366 = 1.83e9 < 2³¹ − 1 = 2.147e9; `tests/sourceContracts.test.ts` checks it).
 */
export const MAX_ACTIVE_USERS = 5_000_000;

/** Most events of one company on one day: any safe integer; 366 of them still fit a BIGINT sum (3.3e18 < 9.2e18). */
export const MAX_EVENTS = Number.MAX_SAFE_INTEGER;

/** What a record is checked against: the date that was requested. */
export interface PullContext {
  date: IsoDate;
}

/**
 * One usage record: a company's activity on one UTC calendar day. Unknown extra fields are
 * dropped rather than rejected, so the provider can add fields without breaking the pull (each
 * is recorded as schema drift).
 */
export const usageContract = defineContract<PullContext>()({
  source: USAGE_SOURCE,
  columns: {
    company_id: { type: text(50), description: 'the company, as in the CRM' },
    date: { type: date, description: 'the UTC activity date; must be the requested date' },
    active_users: { type: integer({ min: 0, max: MAX_ACTIVE_USERS }), description: 'distinct active users that day (sums over 366 days fit an INT)' },
    events: { type: integer({ min: 0, max: MAX_EVENTS }), description: 'product events that day' },
  },
  key: ['company_id', 'date'],
  // A second record of a company for the date is a bad record; the first is kept.
  duplicateKeys: 'reject',
  rules: [
    {
      field: 'date',
      description: 'a record is for the requested date',
      check: (record, pull) => (record.date === pull.date ? undefined : `record is for ${record.date}, not the requested date ${pull.date}`),
    },
  ],
});

const compiledUsage = compileJsonContract(usageContract);

export type UsageRecord = RowOf<typeof usageContract.columns>;

/** Checks once loaded: pulled at 02:00 UTC daily, so one missed pull warns and two are an outage. */
export const usageChecks: SourceChecks = {
  freshness: { warnAfterHours: 26, errorAfterHours: 50 },
  // duplicates within a pull are quarantined by the contract; across pulls of a date, the blob is replaced
  tests: [test.unique(['activity_date', 'company_id'], { severity: 'warn' })],
};

/** The usage bronze table: the records of each pulled date as landed, typed (JSON carries types), with lineage. */
export const usageBronzeSource: BronzeSource = {
  name: USAGE_SOURCE,
  table: {
    schema: 'bronze',
    name: USAGE_SOURCE,
    description: 'Usage API records, one JSON line each, as pulled per activity date.',
    columns: [req('company_id', string(100)), req('activity_date', dateColumn), req('active_users', int), req('events', bigint), ...BRONZE_LINEAGE],
    source: { businessDate: 'activity_date', key: ['company_id'] },
  },
  dateColumn: 'activity_date',
  checks: usageChecks,
  arrives: `pulled daily from the usage API (${USAGE_API_PATH})`,
};

/** The zod schema of one record, derived from `usageContract`. */
export const usageRecordSchema = compiledUsage.schema;

/** A full page as the API documents it (records validated one by one). */
export const usagePageSchema = z.object({
  date: z.iso.date(),
  records: z.array(usageRecordSchema),
  next_cursor: z.string().min(1).nullable(),
});

export type UsagePage = z.infer<typeof usagePageSchema>;

/**
 * The page envelope only: records are left unchecked here and validated one at a time, so a
 * single bad record is quarantined instead of failing the whole page.
 */
export const usagePageEnvelopeSchema = z.object({
  date: z.iso.date(),
  records: z.array(z.unknown()),
  next_cursor: z.string().min(1).nullable(),
});

export type UsagePageEnvelope = z.infer<typeof usagePageEnvelopeSchema>;

/** Error body of 4xx answers. */
export const usageErrorSchema = z.object({ error: z.string() });

const compiledEnvelopeSchema = z.compile(usagePageEnvelopeSchema);

export type RecordCheck = JsonRecordCheck<UsageRecord>;

/** Validates one record against the schema alone; on failure names the first failing field (`(record)` when it is not an object). */
export function validateUsageRecord(input: unknown): RecordCheck {
  return compiledUsage.validate(input);
}

/** Starts checking the records of one pulled date: schema, the date rule, the date window, duplicates, schema drift. */
export function openUsagePull(requested: IsoDate, window: DateWindow = DEFAULT_DATE_WINDOW): JsonFile<UsageRecord> {
  return compiledUsage.open({ date: requested }, { window, anchor: requested, anchorMeans: 'the requested date' });
}

/** Validates a page envelope; returns a readable problem or undefined. */
export function checkPageEnvelope(input: unknown): { page: UsagePageEnvelope } | { problem: string } {
  const parsed = compiledEnvelopeSchema.safeParse(input);
  if (parsed.success) return { page: parsed.data };
  return { problem: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(page)'}: ${i.message}`).join('; ') };
}
