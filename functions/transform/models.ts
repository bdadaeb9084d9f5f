/**
 * The models, in build order. Each is one SQL file under `sql/` (the same text on both engines)
 * plus how it refreshes: which changed sources make it run, and over which dates. Adding a model
 * = one SQL file, one catalogue table, one entry here.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../core/settings.js';
import { addDays, type DateRange } from '../core/dates.js';
import { crmCompanyDaily } from '../sources/crmCompanyDaily/contract.js';
import { USAGE_SOURCE } from '../sources/productUsage/contract.js';
import { test, type DataTest } from '../quality/dataTests.js';
import { ISO_COUNTRY_CODES } from '../quality/referenceData.js';
import { TABLES, type TableDef } from '../warehouse/catalog.js';
import { enforcesKey, SQL_DIR } from '../warehouse/ddl.js';
import { renderSql } from '../warehouse/macros.js';
import { splitStatements } from '../warehouse/sqlText.js';
import type { EngineName } from '../warehouse/warehouse.js';

/** Date ranges of new input per source, as found by the load step and the requests. */
export type Changes = ReadonlyMap<string, DateRange>;

/** A date far enough in the future to mean "up to the latest data" (models clip to their data). */
export const OPEN_END = '9999-12-31';

export interface ModelDef {
  name: string;
  /** Path under `sql/`. An engine-specific variant `<name>.<engine>.sql` beside it wins when present. */
  file: string;
  table: TableDef;
  /** `full`: rebuilt whole when it runs; `date_range`: rebuilt for `@date_from`..`@date_to` of `dateColumn`. */
  refresh: 'full' | 'date_range';
  dateColumn?: string;
  /** The dates to rebuild given what changed, or undefined to skip the model this run. */
  affectedDates(changes: Changes, settings: Settings): DateRange | undefined;
  /**
   * Data tests run after each build, before it commits (over the rebuilt dates of a date-range
   * model). The catalogue key's uniqueness is always tested too (see `modelTests`).
   */
  tests: DataTest[];
}

const CRM = crmCompanyDaily.name;
const USAGE = USAGE_SOURCE;

/** Days before a gold row that its windows read (7-day sums, churn inactivity window). */
export function lookbackDays(settings: Settings): number {
  return Math.max(6, settings.CHURN_INACTIVE_DAYS - 1);
}

export const MODELS: readonly ModelDef[] = [
  {
    name: 'silver.dim_company',
    file: 'silver/dim_company.sql',
    table: TABLES.dimCompany,
    refresh: 'full',
    affectedDates: (changes) => changes.get(CRM),
    tests: [
      test.unique('company_id', { where: 'is_current = 1' }), // one current version per company
      test.expression('versions are non-empty intervals', 'valid_from < valid_to'),
      test.acceptedValues('country', ISO_COUNTRY_CODES, { severity: 'warn' }),
    ],
  },
  {
    name: 'silver.fact_company_usage_daily',
    file: 'silver/fact_company_usage_daily.sql',
    table: TABLES.factCompanyUsageDaily,
    refresh: 'date_range',
    dateColumn: 'activity_date',
    affectedDates: (changes) => changes.get(USAGE),
    tests: [
      test.acceptedRange('active_users', { min: 0 }),
      test.acceptedRange('events', { min: 0 }),
      // usage from a company the CRM has never sent: it shows in gold without attributes
      test.relationships('company_id', TABLES.dimCompany, 'company_id', { severity: 'warn' }),
    ],
  },
  {
    name: 'gold.fact_company_activity_daily',
    file: 'gold/fact_company_activity_daily.sql',
    table: TABLES.factCompanyActivityDaily,
    refresh: 'date_range',
    dateColumn: 'activity_date',
    tests: [
      test.notNull(['active_users', 'events', 'active_users_7d', 'events_7d', 'is_churn_risk']),
      test.acceptedRange('active_users', { min: 0 }),
      test.expression('7-day sums include the day itself', 'active_users_7d >= active_users AND events_7d >= events'),
      test.notNull('company_name', { severity: 'warn' }),
      test.rowCountChange(25, { severity: 'warn' }),
    ],
    affectedDates: (changes, settings) => {
      const usage = changes.get(USAGE);
      const crm = changes.get(CRM);
      // New usage on day D moves the rolling windows of D .. D + lookback; a CRM snapshot on D
      // can change attributes, first appearance and churn flags from D onwards.
      const fromUsage = usage && { from: usage.from, to: addDays(usage.to, lookbackDays(settings)) };
      const fromCrm = crm && { from: crm.from, to: OPEN_END };
      if (!fromUsage) return fromCrm;
      if (!fromCrm) return fromUsage;
      return { from: fromUsage.from < fromCrm.from ? fromUsage.from : fromCrm.from, to: OPEN_END };
    },
  },
];

/**
 * A model's tests as run: the uniqueness of its catalogue key — unless the engine enforces it as
 * a primary key (SQL Server; on DuckDB data tables carry no key index, see `enforcesKey`) — then
 * its declared tests.
 */
export function modelTests(model: ModelDef, engine: EngineName = 'duckdb'): DataTest[] {
  const key = model.table.key && !enforcesKey(engine, model.table) ? [test.unique(model.table.key)] : [];
  return [...key, ...model.tests];
}

/** Values for the `{{slots}}` the SQL cannot take as parameters (window frame offsets). */
function integerSlots(settings: Settings): Record<string, number> {
  return { churn_frame_preceding: settings.CHURN_INACTIVE_DAYS - 1 };
}

/** Parameters a model may use; each statement is given the ones it names. */
export function modelParameters(range: DateRange, settings: Settings): Record<string, string | number> {
  return {
    date_from: range.from,
    date_to: range.to,
    lookback_days: lookbackDays(settings),
    contact_window_days: settings.CHURN_CONTACT_WINDOW_DAYS,
  };
}

export function modelSqlPath(model: ModelDef, engine: EngineName): string {
  const variant = path.join(SQL_DIR, model.file.replace(/\.sql$/, `.${engine}.sql`));
  return existsSync(variant) ? variant : path.join(SQL_DIR, model.file);
}

/** True for the statement of a model that writes its rows (`WITH … INSERT` or `INSERT`), not its `DELETE`. */
export function insertsRows(statement: string): boolean {
  return /^\s*(--[^\n]*\n\s*)*(WITH|INSERT)\b/i.test(statement);
}

/** The model's statements, exactly as they will run (macros expanded, slots filled, one per statement). */
export function renderModelSql(model: ModelDef, engine: EngineName, settings: Settings): string[] {
  const text = readFileSync(modelSqlPath(model, engine), 'utf8');
  return splitStatements(renderSql(text, engine, integerSlots(settings)));
}
