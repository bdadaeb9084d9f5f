/**
 * Company activity models: CRM snapshots and daily product usage → one row per company per
 * calendar day with rolling 7-day sums and a churn-risk flag. SQL in `sql/company_activity/`.
 */
import { addDays, type DateRange } from '../../core/dates.js';
import { test } from '../../quality/dataTests.js';
import { ISO_COUNTRY_CODES } from '../../quality/referenceData.js';
import { codeModel, OPEN_END, sqlModel, tableOf } from '../../transform/models.js';
import { bigint, bool, col, date, int, MAX_LANDING_PATH_CHARS, req, string, timestamp } from '../../warehouse/catalog.js';
import { buildCalendar } from './calendar.js';
import { lookbackDays } from './windows.js';

export const dimCompany = sqlModel({
  name: 'silver.dim_company',
  file: 'silver/dim_company.sql',
  description: 'Company attributes as SCD type 2: one row per version, valid_from inclusive, valid_to exclusive.',
  key: ['company_id', 'valid_from'],
  columns: [
    req('company_id', string(100)),
    col('company_name', string(400)),
    col('country', string(100)),
    col('industry_tag', string(200)),
    col('last_contact_at', timestamp),
    req('valid_from', date),
    req('valid_to', date),
    req('is_current', bool),
    req('_source_file', string(MAX_LANDING_PATH_CHARS)),
    req('_row_number', bigint),
  ],
  refresh: 'full',
  tests: [
    test.unique('company_id', { where: 'is_current = 1' }), // one current version per company
    test.expression('versions are non-empty intervals', 'valid_from < valid_to'),
    test.acceptedValues('country', ISO_COUNTRY_CODES, { severity: 'warn' }),
  ],
});

export const factCompanyUsageDaily = sqlModel({
  name: 'silver.fact_company_usage_daily',
  file: 'silver/fact_company_usage_daily.sql',
  description: 'Daily usage per company; the latest pull of a date wins.',
  key: ['activity_date', 'company_id'], // date first: models rebuild by date range
  columns: [
    req('company_id', string(100)),
    req('activity_date', date),
    req('active_users', int),
    req('events', bigint),
    req('_source_file', string(MAX_LANDING_PATH_CHARS)),
    req('_row_number', bigint),
    req('_ingested_at', timestamp),
  ],
  refresh: 'date_range',
  dateColumn: 'activity_date',
  tests: [
    test.acceptedRange('active_users', { min: 0 }),
    test.acceptedRange('events', { min: 0 }),
    // usage from a company the CRM has never sent: it shows in gold without attributes
    test.relationships('company_id', tableOf(dimCompany), 'company_id', { severity: 'warn' }),
  ],
});

export const dimCalendar = codeModel({
  name: 'silver.dim_calendar',
  description: 'One row per calendar day; the spine of every dense daily model.',
  key: ['calendar_date'],
  columns: [req('calendar_date', date)],
  refresh: 'full',
  reads: ['bronze.crm_company_daily', 'bronze.product_usage'],
  build: buildCalendar,
});

export const factCompanyActivityDaily = sqlModel({
  name: 'gold.fact_company_activity_daily',
  file: 'gold/fact_company_activity_daily.sql',
  description: 'One row per company per calendar day: CRM attributes as known that day, usage, rolling 7-day sums, churn flag.',
  key: ['activity_date', 'company_id'], // date first: models rebuild by date range
  columns: [
    req('activity_date', date),
    req('company_id', string(100)),
    col('company_name', string(400)),
    col('country', string(100)),
    col('industry_tag', string(200)),
    col('last_contact_at', timestamp),
    req('active_users', int),
    req('events', bigint),
    req('active_users_7d', int),
    req('events_7d', bigint),
    req('is_churn_risk', bool),
  ],
  refresh: 'date_range',
  dateColumn: 'activity_date',
  tests: [
    test.notNull(['active_users', 'events', 'active_users_7d', 'events_7d', 'is_churn_risk']),
    test.acceptedRange('active_users', { min: 0 }),
    test.expression('7-day sums include the day itself', 'active_users_7d >= active_users AND events_7d >= events'),
    test.notNull('company_name', { severity: 'warn' }),
    test.rowCountChange(25, { severity: 'warn' }),
  ],
  affectedDates: (changes, settings): DateRange | undefined => {
    const usage = changes.get('silver.fact_company_usage_daily');
    const crm = changes.get('silver.dim_company');
    // New usage on day D moves the rolling windows of D .. D + lookback; a CRM snapshot on D
    // can change attributes, first appearance and churn flags from D onwards.
    const fromUsage = usage && { from: usage.from, to: addDays(usage.to, lookbackDays(settings)) };
    const fromCrm = crm && { from: crm.from, to: OPEN_END };
    if (!fromUsage) return fromCrm;
    if (!fromCrm) return fromUsage;
    return { from: fromUsage.from < fromCrm.from ? fromUsage.from : fromCrm.from, to: OPEN_END };
  },
});
