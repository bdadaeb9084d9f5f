/**
 * `silver.dim_calendar`: a contiguous run of days covering every CRM snapshot and usage date, and
 * the days before the first that the rolling windows read. Days are only ever added.
 *
 * Bounded: the span is checked before a single day is generated, so an absurd date that slipped
 * past the source contracts fails this model at once, naming the bounds, instead of generating
 * millions of days.
 */
import { addDays, dateRange, daysBetween, type IsoDate } from '../../core/dates.js';
import type { CodeModelInput } from '../../transform/models.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import { lookbackDays } from './windows.js';

/** 200 years of days: far more than any real history, far less than a runaway. */
export const MAX_CALENDAR_DAYS = 73_050;
/** No date before this reaches the calendar (the contracts refuse such dates long before). */
export const CALENDAR_FLOOR: IsoDate = '1900-01-01';

export async function buildCalendar(session: SqlSession, input: CodeModelInput): Promise<{ rowsOut: number; detail: unknown }> {
  const [need] = await session.query<{ lo: string | null; hi: string | null }>(
    `SELECT MIN(d) AS lo, MAX(d) AS hi FROM (
       SELECT MIN(CAST(snapshot_date AS DATE)) AS d FROM bronze.crm_company_daily
       UNION ALL SELECT MIN(activity_date) AS d FROM bronze.product_usage
       UNION ALL SELECT MAX(activity_date) AS d FROM bronze.product_usage
       UNION ALL SELECT MAX(CAST(snapshot_date AS DATE)) AS d FROM bronze.crm_company_daily
     ) bounds`,
  );
  if (!need?.lo || !need.hi) return { rowsOut: 0, detail: 'no data yet' };
  if (need.lo < CALENDAR_FLOOR || daysBetween(need.lo, need.hi) > MAX_CALENDAR_DAYS) {
    throw new Error(
      `the data spans ${need.lo} … ${need.hi}: the calendar covers at most ${MAX_CALENDAR_DAYS} days from ${CALENDAR_FLOOR} on. ` +
        'A date outside the sources\' plausible window reached bronze: find it with `npm run query` on bronze.crm_company_daily / bronze.product_usage and replay or remove its file.',
    );
  }
  const lo = addDays(need.lo, -lookbackDays(input.settings));
  const hi = need.hi;
  const [have] = await session.query<{ lo: string | null; hi: string | null }>(`SELECT MIN(calendar_date) AS lo, MAX(calendar_date) AS hi FROM silver.dim_calendar`);
  const missing: IsoDate[] = [];
  if (!have?.lo || !have.hi) missing.push(...dateRange(lo, hi));
  else {
    if (lo < have.lo) missing.push(...dateRange(lo, addDays(have.lo, -1)));
    if (hi > have.hi) missing.push(...dateRange(addDays(have.hi, 1), hi));
  }
  await session.appendRows(input.table, missing.map((d) => [d]));
  return { rowsOut: missing.length, detail: { from: lo, to: hi } };
}
