/**
 * `gold.dim_date`: one row per day covering the customer data, whole years: January 1 of the
 * first transaction's year to December 31 of the last one's. A code model (no GENERATE_SERIES on
 * either engine): the days are computed here and appended; days are only ever added.
 *
 * It reads the changed dates it is given (the dates of the transactions and sales files just
 * loaded), not the bronze tables, so a daily file costs nothing; only an open-ended rebuild
 * (`npm run ops -- rerun` over every date) looks the data's bounds up.
 */
import { addDays, daysBetween, type DateRange, type IsoDate } from '../../core/dates.js';
import { OPEN_END, OPEN_START, type CodeModelInput } from '../../transform/models.js';
import type { SqlSession } from '../../warehouse/warehouse.js';

/** 200 years of days: far more than any real history, far less than a runaway. */
export const MAX_DATE_DIMENSION_DAYS = 73_050;

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** One row of the date dimension, in the table's column order. */
export function dateRow(d: IsoDate): (string | number | boolean)[] {
  const t = new Date(`${d}T00:00:00Z`);
  const year = t.getUTCFullYear();
  const month = t.getUTCMonth() + 1;
  const day = t.getUTCDate();
  const isoWeekday = ((t.getUTCDay() + 6) % 7) + 1; // 1 = Monday … 7 = Sunday
  const monday = addDays(d, 1 - isoWeekday);
  // ISO week: the week of the Thursday; its year is the ISO year
  const thursday = addDays(d, 4 - isoWeekday);
  const isoYear = Number(thursday.slice(0, 4));
  const isoWeek = Math.floor(daysBetween(`${isoYear}-01-01`, thursday) / 7) + 1;
  const quarter = Math.floor((month - 1) / 3) + 1;
  return [
    year * 10_000 + month * 100 + day,
    d,
    year,
    quarter,
    month,
    MONTH_NAMES[month - 1]!,
    `${d.slice(0, 8)}01`,
    isoYear,
    isoWeek,
    monday,
    day,
    isoWeekday,
    DAY_NAMES[isoWeekday - 1]!,
    isoWeekday >= 6,
  ];
}

function wholeYears(lo: IsoDate, hi: IsoDate): DateRange {
  return { from: `${lo.slice(0, 4)}-01-01`, to: `${hi.slice(0, 4)}-12-31` };
}

export async function buildDateDimension(session: SqlSession, input: CodeModelInput): Promise<{ rowsOut: number; detail: unknown }> {
  let need: DateRange | undefined = input.range;
  if (input.range.from <= OPEN_START || input.range.to >= OPEN_END) {
    // an open-ended rebuild: the data's own bounds
    const [b] = await session.query<{ lo: string | null; hi: string | null }>(
      `SELECT MIN(d) AS lo, MAX(d) AS hi FROM (
         SELECT MIN(CAST(transaction_date AS DATE)) AS d FROM bronze.transactions
         UNION ALL SELECT MAX(CAST(transaction_date AS DATE)) AS d FROM bronze.transactions
         UNION ALL SELECT MIN(CAST(order_date AS DATE)) AS d FROM bronze.sales
         UNION ALL SELECT MAX(CAST(order_date AS DATE)) AS d FROM bronze.sales
       ) bounds`,
    );
    need = b?.lo && b.hi ? { from: b.lo, to: b.hi } : undefined;
  }
  if (!need) return { rowsOut: 0, detail: 'no data yet' };
  const want = wholeYears(need.from, need.to);
  if (daysBetween(want.from, want.to) > MAX_DATE_DIMENSION_DAYS) {
    throw new Error(`the customer data spans ${need.from} … ${need.to}: gold.dim_date covers at most ${MAX_DATE_DIMENSION_DAYS} days. A date outside the sources' window reached bronze: find its file with npm run query and isolate it (npm run ops -- quarantine).`);
  }
  const [have] = await session.query<{ lo: string | null; hi: string | null }>(`SELECT MIN(calendar_date) AS lo, MAX(calendar_date) AS hi FROM gold.dim_date`);
  const missing: IsoDate[] = [];
  const add = (from: IsoDate, to: IsoDate) => {
    for (let d = from; d <= to; d = addDays(d, 1)) missing.push(d);
  };
  if (!have?.lo || !have.hi) add(want.from, want.to);
  else {
    if (want.from < have.lo) add(want.from, addDays(have.lo, -1));
    if (want.to > have.hi) add(addDays(have.hi, 1), want.to);
  }
  await session.appendRows(input.table, missing.map(dateRow));
  return { rowsOut: missing.length, detail: { from: want.from, to: want.to, added: missing.length } };
}
