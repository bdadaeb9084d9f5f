/**
 * The report's page API: what a domain declares to put pages in the HTML report, and what a page
 * is made of. A domain exports its pages from `functions/domains/<domain>/report.ts` and passes
 * them to `defineDomain({ report })`; `report.ts` here gathers every domain's pages, the
 * executive summary and pipeline health, and renders them (docs/report.md, how to add a page).
 *
 * A page is data, not HTML: figures, charts with the table beside them, tables, notes. The
 * renderer owns the look (escaping, palette, axis titles, summarising long tables), so every
 * page reads the same and none can inject markup. Numbers come from SQL over the `reporting`
 * views and the marts, and no page computes a metric the marts already define.
 *
 * This file imports no charting or rendering code: domain files import it at start-up.
 */
import type { DateRange, IsoDate } from '../core/dates.js';
import type { Settings } from '../core/settings.js';
import type { SqlSession } from '../warehouse/warehouse.js';

/** What a page reads from: the warehouse (portable SQL: it runs on DuckDB and Azure SQL) and the settings. */
export interface ReportSource {
  warehouse: SqlSession;
  settings: Settings;
}

export interface ReportPage {
  /** The tab's anchor: lower-case words joined by hyphens (`company-activity`), unique in the report. */
  id: string;
  title: string;
  /**
   * Where its tab goes, smallest first: 10 executive summary, 20 revenue and products, 30
   * customers, 40 support and satisfaction, 50 sales pipeline, 60 company activity, 90 pipeline
   * health.
   */
  order: number;
  /** The page from the data, or undefined when its domain has no data yet (the tab is left out). */
  build(source: ReportSource): Promise<PageContent | undefined>;
}

export interface PageContent {
  /** The latest date (or time) the page's data describes: from the data, never the clock. */
  asOf: IsoDate | Date;
  /** The dates its data covers. */
  range: DateRange;
  /** A sentence or two under the title: what the page answers. */
  intro?: string;
  blocks: Block[];
}

export type Block =
  /** Headline figures, each with its change against the previous period when there is one. */
  | { kind: 'figures'; title?: string; figures: Figure[] }
  /** A chart and, beside it, the table of the figures it draws (or a summary of them). */
  | { kind: 'chart'; chart: Chart; table: DataTable }
  | { kind: 'table'; table: DataTable }
  | { kind: 'note'; text: string }
  /** The executive summary's: one group of figures per domain, then the insight rows. */
  | { kind: 'summary'; groups: SummaryGroup[]; insights: Insight[] };

// ---- formats ----------------------------------------------------------------------------------

/** How a value is shown. Percentages are fractions (0.25 is 25 %). */
export type Format =
  | { kind: 'text' }
  | { kind: 'number'; decimals?: number; unit?: string }
  | { kind: 'percent'; decimals?: number }
  | { kind: 'money'; currency: string; decimals?: number }
  | { kind: 'date' }
  | { kind: 'datetime' }
  /** `pass` / `warn` / `error`, `succeeded` / `failed` / `skipped`: shown with a symbol, not by colour alone. */
  | { kind: 'status' };

export const fmt = {
  text: { kind: 'text' },
  int: { kind: 'number', decimals: 0 },
  number: (decimals: number, unit?: string): Format => ({ kind: 'number', decimals, ...(unit ? { unit } : {}) }),
  percent: (decimals = 1): Format => ({ kind: 'percent', decimals }),
  money: (currency: string, decimals = 0): Format => ({ kind: 'money', currency, decimals }),
  date: { kind: 'date' },
  datetime: { kind: 'datetime' },
  status: { kind: 'status' },
} as const satisfies Record<string, Format | ((...args: never[]) => Format)>;

// ---- figures ----------------------------------------------------------------------------------

export interface Figure {
  /** Stable id (`company_activity.active_users`): the test finds the figure by it. */
  id: string;
  label: string;
  value: number | null;
  format: Format;
  /** The same figure for the previous period (`7 days earlier`), when the data reaches back that far. */
  previous?: { value: number | null; label: string };
  /** Which way is good, for the words beside the change (never colour alone): `up`, `down`, or neither. */
  better?: 'up' | 'down';
  /** A short line under the figure: its definition or date. */
  note?: string;
}

export interface SummaryGroup {
  /** The domain's title, and the page its figures link to. */
  title: string;
  pageId?: string;
  asOf: IsoDate | Date;
  range: DateRange;
  figures: Figure[];
}

/** One row of the executive summary's business insights: a finding in a sentence, with its evidence. */
export interface Insight {
  area: string;
  finding: string;
  /** The figure it rests on, formatted (`12 of 50 companies`). */
  evidence?: string;
  pageId?: string;
}

/**
 * A domain's share of the executive summary; undefined when it has no data. A domain with several
 * pages gives a group per page (each with its own as-of date and link); the summary shows every
 * group, and every insight, in the tab order of the page it links to.
 */
export interface SummaryContribution {
  group: SummaryGroup | SummaryGroup[];
  insights: Insight[];
}

/** What a domain adds to the report: its pages and its share of the executive summary. */
export interface DomainReport {
  pages?: ReportPage[];
  summary?: (source: ReportSource) => Promise<SummaryContribution | undefined>;
}

// ---- tables -----------------------------------------------------------------------------------

export interface Column {
  key: string;
  label: string;
  format: Format;
}

export interface DataTable {
  title: string;
  /** Where the rows come from (`reporting.companies_at_churn_risk`), shown under the table. */
  source: string;
  columns: Column[];
  /** Objects with a property per column key. */
  rows: readonly object[];
  /**
   * How many rows there are in all when `rows` holds only the first ones (fetch the top N in SQL
   * with `topRows`); the table ends with "and M more …".
   */
  total?: number;
  /** What a row is, for "and 12 more companies" (default `rows`). */
  noun?: string;
  /** The renderer shows at most this many rows (default 15) and summarises the rest. */
  maxRows?: number;
  /** Shown when there are no rows (default "None."). */
  empty?: string;
}

// ---- charts -----------------------------------------------------------------------------------

/** The palette's colours by name (Okabe & Ito, colour-blind safe); series take them in this order. */
export type PaletteColor = 'blue' | 'orange' | 'green' | 'vermillion' | 'purple' | 'skyBlue' | 'yellow' | 'grey';

export interface ValueAxis {
  /** What is measured (`Active users`). */
  label: string;
  /** Its unit (`users`, `EUR`, `hours`, `%`): shown as `Active users (users)`. */
  unit: string;
  format: Format;
  /** Fixed ends of the axis, when the data's own would mislead (a share's axis from 0 to 1: 0 to 100 %). */
  min?: number;
  max?: number;
}

export interface Series {
  name: string;
  color?: PaletteColor;
}

interface ChartBase {
  title: string;
  /** The view or table it draws (shown under the chart). */
  source: string;
  /** One sentence on what it shows, for screen readers (defaults to the title). */
  description?: string;
}

/** Values over dates (`YYYY-MM-DD`), one line per series. */
export interface LineChart extends ChartBase {
  kind: 'line';
  x: { label: string };
  y: ValueAxis;
  series: (Series & { points: [IsoDate, number | null][] })[];
  /** Fill under the line (one series). */
  area?: boolean;
  /** Dates whose period is not complete (the current month): shaded and labelled "partial". */
  partial?: { from: IsoDate; to: IsoDate };
}

/** Values per category, one bar per series (side by side, or stacked). */
export interface BarChart extends ChartBase {
  kind: 'bar';
  x: { label: string; categories: string[] };
  y: ValueAxis;
  series: (Series & { values: (number | null)[] })[];
  stacked?: boolean;
  /** Bars along the horizontal axis, categories top to bottom (a funnel, a ranking). */
  horizontal?: boolean;
  /** A line on a second axis over the same categories (a Pareto's cumulative share). */
  line?: Series & { values: (number | null)[]; axis: ValueAxis };
  /** Categories whose period is not complete: drawn lighter and labelled "partial". */
  partial?: string[];
}

/** A value per (column, row) cell, coloured on one sequential scale (a cohort retention grid). */
export interface HeatmapChart extends ChartBase {
  kind: 'heatmap';
  x: { label: string; categories: string[] };
  y: { label: string; categories: string[] };
  /** [column index, row index, value]. */
  cells: [number, number, number | null][];
  value: ValueAxis;
}

export type Chart = LineChart | BarChart | HeatmapChart;

// ---- periods ----------------------------------------------------------------------------------

/** A flag as either engine returns it (DuckDB BOOLEAN, SQL Server BIT). */
export const isTrue = (v: unknown): boolean => v === true || v === 1;

/**
 * The period a page's headline figures describe, and the one before it, from a mart's rows in
 * period order: the latest period the data covers in full (`is_partial_period` false: a partial one
 * would compare half a month with a whole one), or the latest there is while none is complete.
 * `key` names a row's period (its first day) and `previousKey` the period before a key; a mart
 * with a row for every period gives the previous one, a missing row gives no previous figure.
 */
export function headlinePeriod<T extends { is_partial_period: unknown }>(rows: readonly T[], key: (r: T) => string, previousKey: (k: string) => string): { current: T; previous: T | undefined } | undefined {
  const complete = rows.filter((r) => !isTrue(r.is_partial_period));
  const current = complete.at(-1) ?? rows.at(-1);
  if (!current) return undefined;
  const before = previousKey(key(current));
  return { current, previous: rows.find((r) => key(r) === before) };
}

/**
 * A line chart's shaded "partial" stretch when its last point's period is incomplete (points are
 * dated by their period's first day, so the period itself has no width): the segment into it from
 * the point before. Spread it into the chart: `{ kind: 'line', …, ...partialSegment(points) }`.
 */
export function partialSegment(points: readonly { date: IsoDate; partial: boolean }[]): { partial?: { from: IsoDate; to: IsoDate } } {
  const last = points.at(-1);
  if (!last?.partial) return {};
  return { partial: { from: points.at(-2)?.date ?? last.date, to: last.date } };
}

// ---- SQL helpers ------------------------------------------------------------------------------

/**
 * The first `n` rows of a query and how many there are in all, in portable SQL (no LIMIT or TOP):
 * `select` is one SELECT with no WITH and no ORDER BY of its own (it becomes a CTE); rows are
 * ranked by `orderBy`, which must decide every tie (end it with a key).
 */
export async function topRows<T extends object>(
  session: SqlSession,
  select: string,
  orderBy: string,
  n: number,
  params: Record<string, string | number | Date | null> = {},
): Promise<{ rows: T[]; total: number }> {
  const rows = await session.query<T & { report_rank: number; report_total: number }>(
    `WITH source_rows AS (${select}),
     ranked AS (SELECT source_rows.*, ROW_NUMBER() OVER (ORDER BY ${orderBy}) AS report_rank, COUNT(*) OVER () AS report_total FROM source_rows)
     SELECT * FROM ranked WHERE report_rank <= @report_top ORDER BY report_rank`,
    { ...params, report_top: n },
  );
  // no rows at all: nothing ranked, so nothing counted either
  return { rows: rows.map(({ report_rank: _r, report_total: _t, ...row }) => row as unknown as T), total: Number(rows[0]?.report_total ?? 0) };
}
