/**
 * What the CRM warehouse's report pages share: the views they read, the as-of date every page
 * states (`reporting.crm_as_of`, never the clock), how a period is chosen (the latest one the data
 * covers in full, against the one before it) and how amounts are shown. Each page is its own file
 * beside this one (revenue.ts, support.ts, salesPipeline.ts); `../report.ts` gathers them.
 */
import type { IsoDate } from '../../../core/dates.js';
import { fmt, type Format, type ReportSource } from '../../../report/page.js';

/** The reporting views the pages read: the ones Power BI reads (views.ts, exposures). */
export const VIEWS = {
  asOf: 'reporting.crm_as_of',
  revenueByMonth: 'reporting.crm_revenue_by_month',
  revenueByYear: 'reporting.crm_revenue_by_year',
  productPerformance: 'reporting.crm_product_performance',
  supportPerformance: 'reporting.crm_support_performance',
  weeklyOps: 'reporting.crm_weekly_ops',
  salesPipeline: 'reporting.crm_sales_pipeline',
  dealOutcomesByMonth: 'reporting.crm_deal_outcomes_by_month',
  deals: 'reporting.crm_deals',
} as const;

/** The page ids (tab anchors), for the summary's links. */
export const PAGE_IDS = { revenue: 'revenue-and-products', support: 'support-and-satisfaction', pipeline: 'sales-pipeline' } as const;

/**
 * The exports carry amounts without a currency (docs/crm-warehouse.md: "the reporting currency"),
 * so the report names none: axes say "reporting currency" and figures are plain numbers.
 */
export const CURRENCY = 'reporting currency';
export const money: Format = fmt.number(0);
export const money2: Format = fmt.number(2);
export const hours: Format = fmt.number(1, 'h');

/** The date the CRM data describes (the latest updated_at of any export); undefined before any CRM data. */
export async function crmAsOf(source: ReportSource): Promise<IsoDate | undefined> {
  const [row] = await source.warehouse.query<{ as_of_date: IsoDate }>(`SELECT as_of_date FROM ${VIEWS.asOf}`);
  return row?.as_of_date;
}

/** A flag as either engine returns it (BOOLEAN / BIT). */
export const isTrue = (v: unknown): boolean => v === true || v === 1;

/**
 * A line chart's shaded "partial" stretch when its last point's period is incomplete: the segment
 * from the point before it (a point is a period's first day, so the period itself has no width).
 */
export function partialSegment(points: { date: IsoDate; partial: boolean }[]): { partial?: { from: IsoDate; to: IsoDate } } {
  const last = points.at(-1);
  if (!last?.partial) return {};
  return { partial: { from: points.at(-2)?.date ?? last.date, to: last.date } };
}

/** `2024-03-01` → `2024-03`. */
export const monthLabel = (monthStart: IsoDate): string => monthStart.slice(0, 7);

/** The first day of the month `n` months after the one starting on `monthStart`. */
export function addMonths(monthStart: IsoDate, n: number): IsoDate {
  const d = new Date(Date.UTC(Number(monthStart.slice(0, 4)), Number(monthStart.slice(5, 7)) - 1 + n, 1));
  return d.toISOString().slice(0, 10);
}

/** An ISO week as `2024-W02`. */
export const isoWeekLabel = (isoYear: number, isoWeek: number): string => `${isoYear}-W${String(isoWeek).padStart(2, '0')}`;

/**
 * The period a page's headline figures describe, and the one before it: the latest period the data
 * covers in full (a partial one would compare half a month with a whole one), or the latest there
 * is when none is complete yet. `previousKey` names the period before (dense marts have a row for
 * every period; a missing one gives no previous figure).
 */
export function headlinePeriod<T extends { is_partial_period: unknown }>(rows: T[], key: (r: T) => string, previousKey: (k: string) => string): { current: T; previous: T | undefined } | undefined {
  const complete = rows.filter((r) => !isTrue(r.is_partial_period));
  const current = complete.at(-1) ?? rows.at(-1);
  if (!current) return undefined;
  const before = previousKey(key(current));
  return { current, previous: rows.find((r) => key(r) === before) };
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
/** `12,345` */
export const count = (v: number | null | undefined): string => grouped.format(Number(v ?? 0));
/** `45.2 %` of a fraction. */
export const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${oneDecimal.format(Number(v) * 100)} %`);
/** `2.5 h` */
export const hoursText = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${oneDecimal.format(Number(v))} h`);
