/**
 * What the CRM warehouse's report pages share: the views they read, the as-of date every page
 * states (`reporting.crm_as_of`, never the clock), month and week labels, and how amounts are
 * shown. (How a headline period is chosen is the framework's `headlinePeriod`.) Each page is its own file
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

/** `2024-03-01` → `2024-03`. */
export const monthLabel = (monthStart: IsoDate): string => monthStart.slice(0, 7);

/** The first day of the month `n` months after the one starting on `monthStart`. */
export function addMonths(monthStart: IsoDate, n: number): IsoDate {
  const d = new Date(Date.UTC(Number(monthStart.slice(0, 4)), Number(monthStart.slice(5, 7)) - 1 + n, 1));
  return d.toISOString().slice(0, 10);
}

/** An ISO week as `2024-W02`. */
export const isoWeekLabel = (isoYear: number, isoWeek: number): string => `${isoYear}-W${String(isoWeek).padStart(2, '0')}`;

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
/** `12,345` */
export const count = (v: number | null | undefined): string => grouped.format(Number(v ?? 0));
/** `45.2 %` of a fraction. */
export const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${oneDecimal.format(Number(v) * 100)} %`);
/** `2.5 h` */
export const hoursText = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${oneDecimal.format(Number(v))} h`);
