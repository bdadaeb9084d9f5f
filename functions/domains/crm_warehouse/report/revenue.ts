/**
 * The "Revenue and products" page and its share of the executive summary: revenue per month
 * (partial months marked) and year, the change on a year before, the average order value, and how
 * concentrated revenue is in a few products and categories (Pareto: each one's share and the
 * running share). Every figure is a column of `gold.mtr_revenue_by_month`, `mtr_revenue_by_year`
 * or `mtr_product_performance`, read through their reporting views; none is recomputed here.
 */
import type { IsoDate } from '../../../core/dates.js';
import { fmt, headlinePeriod, isTrue, partialSegment, topRows, type Block, type Figure, type Insight, type ReportPage, type ReportSource, type SummaryContribution } from '../../../report/page.js';
import { addMonths, count, crmAsOf, CURRENCY, money, money2, monthLabel, PAGE_IDS, pct, VIEWS } from './common.js';

/** Months in the tables beside the monthly charts, and in the year-against-year chart. */
const TABLE_MONTHS = 12;
const TOP_PRODUCTS = 15;
const TOP_CATEGORIES = 12;
/** "The top 10 % of products bring …". */
const TOP_SHARE_OF_PRODUCTS = 0.1;
/** "… products make 80 % of revenue". */
const PARETO_SHARE = 0.8;

export interface RevenueMonth {
  month_start: IsoDate;
  revenue: number;
  orders: number;
  customers: number;
  aov: number | null;
  revenue_per_customer: number | null;
  revenue_prior_year: number | null;
  revenue_yoy_change: number | null;
  revenue_yoy_change_pct: number | null;
  is_partial_period: boolean;
}

interface RevenueYear {
  year: number;
  revenue: number;
  orders: number;
  customers: number;
  aov: number | null;
  revenue_prior_year: number | null;
  revenue_yoy_change_pct: number | null;
  is_partial_period: boolean;
}

interface ProductRow {
  revenue_rank: number;
  product_id: string | null;
  product_name: string;
  category: string;
  revenue: number;
  revenue_share: number | null;
  cumulative_share: number | null;
}

interface CategoryRow {
  category: string;
  products: number;
  category_revenue: number;
  category_share: number | null;
  category_rank: number;
  category_cumulative_share: number | null;
}

export function revenueByMonth(source: ReportSource): Promise<RevenueMonth[]> {
  return source.warehouse.query<RevenueMonth>(
    `SELECT month_start, revenue, orders, customers, aov, revenue_per_customer, revenue_prior_year, revenue_yoy_change, revenue_yoy_change_pct, is_partial_period
     FROM ${VIEWS.revenueByMonth}
     ORDER BY month_start`,
  );
}

/** The headline month (the latest complete one) and the month before it. */
const headlineMonth = (months: RevenueMonth[]) => headlinePeriod(months, (m) => m.month_start, (k) => addMonths(k, -1));

/** Revenue, orders, AOV and customers in the headline month, each against the month before. */
export function revenueFigures(months: RevenueMonth[]): Figure[] {
  const period = headlineMonth(months)!;
  const { current: m, previous: p } = period;
  const label = `the month before (${monthLabel(addMonths(m.month_start, -1))})`;
  const previous = (pick: (r: RevenueMonth) => number | null) => ({ value: p ? pick(p) : null, label });
  const which = `${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial: no month is complete yet)' : ''}`;
  const yoy =
    m.revenue_yoy_change_pct !== null
      ? `; ${Number(m.revenue_yoy_change_pct) >= 0 ? '+' : '−'}${pct(Math.abs(Number(m.revenue_yoy_change_pct)))} on ${monthLabel(addMonths(m.month_start, -12))}`
      : '';
  return [
    { id: 'crm.revenue_month', label: `Revenue, ${which}`, value: m.revenue, format: money, previous: previous((r) => r.revenue), better: 'up', note: `in the ${CURRENCY}${yoy}` },
    { id: 'crm.orders_month', label: `Orders, ${which}`, value: m.orders, format: fmt.int, previous: previous((r) => r.orders), better: 'up', note: 'orders with a line that counts as revenue' },
    { id: 'crm.aov_month', label: `Average order value, ${which}`, value: m.aov, format: money2, previous: previous((r) => r.aov), better: 'up', note: 'revenue / orders' },
    { id: 'crm.customers_month', label: `Ordering accounts, ${which}`, value: m.customers, format: fmt.int, previous: previous((r) => r.customers), better: 'up', note: 'accounts with such an order' },
  ];
}

/** The products by revenue rank, the first `n` (ties in the mart's order: its running share). */
function topProducts(source: ReportSource, n: number) {
  return topRows<ProductRow>(
    source.warehouse,
    `SELECT product_key, revenue_rank, product_id, product_name, category, revenue, revenue_share, cumulative_share FROM ${VIEWS.productPerformance}`,
    'revenue_rank, cumulative_share, product_key',
    n,
  );
}

/** The categories by revenue rank (the mart repeats a category's figures on each of its products). */
function topCategories(source: ReportSource, n: number) {
  return topRows<CategoryRow>(
    source.warehouse,
    `SELECT category, COUNT(*) AS products, category_revenue, category_share, category_rank, category_cumulative_share
     FROM ${VIEWS.productPerformance}
     GROUP BY category, category_revenue, category_share, category_rank, category_cumulative_share`,
    'category_rank, category_cumulative_share, category',
    n,
  );
}

export interface Concentration {
  products: number;
  /** How many products are "the top 10 %" (at least one), and the running share they reach. */
  top: number;
  topShare: number | null;
  /** How many products it takes to reach 80 % of revenue (undefined without revenue). */
  forPareto: number | undefined;
}

/** The running share at the top tenth of products, and how many products make 80 %: read off the mart's cumulative share. */
export async function concentration(source: ReportSource): Promise<Concentration | undefined> {
  const [all] = await source.warehouse.query<{ products: number; below: number; revenue: number | null }>(
    `SELECT COUNT(*) AS products, SUM(CASE WHEN cumulative_share < @pareto THEN 1 ELSE 0 END) AS below, SUM(revenue) AS revenue FROM ${VIEWS.productPerformance}`,
    { pareto: PARETO_SHARE },
  );
  const products = Number(all?.products ?? 0);
  if (products === 0 || !Number(all?.revenue ?? 0)) return undefined;
  const top = Math.max(1, Math.ceil(products * TOP_SHARE_OF_PRODUCTS));
  // the product at that position in the mart's order: its running share is the top products' share
  const [at] = await source.warehouse.query<{ cumulative_share: number | null }>(
    `WITH ordered AS (SELECT cumulative_share, ROW_NUMBER() OVER (ORDER BY cumulative_share, revenue_rank, product_key) AS position FROM ${VIEWS.productPerformance})
     SELECT cumulative_share FROM ordered WHERE position = @position`,
    { position: top },
  );
  return { products, top, topShare: at?.cumulative_share ?? null, forPareto: Math.min(products, Number(all?.below ?? 0) + 1) };
}

function concentrationFigures(c: Concentration, topCategory: CategoryRow | undefined): Figure[] {
  return [
    {
      id: 'crm.top_products_share',
      label: `Revenue share of the top ${Math.round(TOP_SHARE_OF_PRODUCTS * 100)} % of products`,
      value: c.topShare,
      format: fmt.percent(1),
      note: `the top ${count(c.top)} of ${count(c.products)} products by revenue`,
    },
    {
      id: 'crm.products_for_80pct',
      label: `Products making ${Math.round(PARETO_SHARE * 100)} % of revenue`,
      value: c.forPareto ?? null,
      format: fmt.int,
      note: `of ${count(c.products)} products, most revenue first`,
    },
    ...(topCategory
      ? [{ id: 'crm.top_category_share', label: 'Revenue share of the largest category', value: topCategory.category_share, format: fmt.percent(1), note: `${topCategory.category}, ${count(topCategory.products)} products` } satisfies Figure]
      : []),
  ];
}

const monthRows = (months: RevenueMonth[]) =>
  months
    .slice(-TABLE_MONTHS)
    .reverse()
    .map((m) => ({ ...m, month: `${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial)' : ''}` }));

export const revenuePage: ReportPage = {
  id: PAGE_IDS.revenue,
  title: 'Revenue and products',
  order: 20,
  async build(source) {
    const asOf = await crmAsOf(source);
    const months = asOf ? await revenueByMonth(source) : [];
    if (!asOf || months.length === 0) return undefined;
    const years = await source.warehouse.query<RevenueYear>(
      `SELECT year, revenue, orders, customers, aov, revenue_prior_year, revenue_yoy_change_pct, is_partial_period FROM ${VIEWS.revenueByYear} ORDER BY year`,
    );
    const [products, categories, conc] = [await topProducts(source, TOP_PRODUCTS), await topCategories(source, TOP_CATEGORIES), await concentration(source)];
    const first = months[0]!.month_start;
    const partialMonths = months.filter((m) => isTrue(m.is_partial_period)).map((m) => monthLabel(m.month_start));
    const lastYear = months.slice(-TABLE_MONTHS);
    const moneyAxis = (label: string) => ({ label, unit: CURRENCY, format: money });
    const monthTable = { source: VIEWS.revenueByMonth, rows: monthRows(months), total: months.length, noun: 'months', maxRows: TABLE_MONTHS };

    const blocks: Block[] = [
      { kind: 'figures', figures: revenueFigures(months) },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Revenue by month',
          description: `Revenue per calendar month, ${monthLabel(first)} to ${monthLabel(months.at(-1)!.month_start)}; months the data does not cover in full are drawn lighter and marked with an asterisk`,
          source: VIEWS.revenueByMonth,
          x: { label: 'Month of ordering', categories: months.map((m) => monthLabel(m.month_start)) },
          y: moneyAxis('Revenue'),
          series: [{ name: 'Revenue', values: months.map((m) => m.revenue) }],
          partial: partialMonths,
        },
        table: {
          ...monthTable,
          title: 'Revenue by month, latest first',
          columns: [
            { key: 'month', label: 'Month', format: fmt.text },
            { key: 'revenue', label: 'Revenue', format: money },
            { key: 'orders', label: 'Orders', format: fmt.int },
            { key: 'revenue_yoy_change_pct', label: 'On a year before', format: fmt.percent(1) },
          ],
        },
      },
    ];
    if (lastYear.some((m) => m.revenue_prior_year !== null)) {
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Revenue against the same month a year before',
          description: `Revenue of the last ${lastYear.length} months beside the same months a year earlier`,
          source: VIEWS.revenueByMonth,
          x: { label: 'Month of ordering', categories: lastYear.map((m) => monthLabel(m.month_start)) },
          y: moneyAxis('Revenue'),
          series: [
            { name: 'This month', values: lastYear.map((m) => m.revenue), color: 'blue' },
            { name: 'A year before', values: lastYear.map((m) => m.revenue_prior_year), color: 'skyBlue' },
          ],
          partial: lastYear.filter((m) => isTrue(m.is_partial_period)).map((m) => monthLabel(m.month_start)),
        },
        table: {
          ...monthTable,
          title: 'Revenue on a year before, latest first',
          columns: [
            { key: 'month', label: 'Month', format: fmt.text },
            { key: 'revenue', label: 'Revenue', format: money },
            { key: 'revenue_prior_year', label: 'A year before', format: money },
            { key: 'revenue_yoy_change', label: 'Change', format: money },
            { key: 'revenue_yoy_change_pct', label: 'Change %', format: fmt.percent(1) },
          ],
        },
      });
    }
    blocks.push(
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Revenue by year',
          description: `Revenue per calendar year, ${years[0]?.year ?? ''} to ${years.at(-1)?.year ?? ''}; partial years marked`,
          source: VIEWS.revenueByYear,
          x: { label: 'Year of ordering', categories: years.map((y) => String(y.year)) },
          y: moneyAxis('Revenue'),
          series: [{ name: 'Revenue', values: years.map((y) => y.revenue), color: 'green' }],
          partial: years.filter((y) => isTrue(y.is_partial_period)).map((y) => String(y.year)),
        },
        table: {
          title: 'Revenue by year',
          source: VIEWS.revenueByYear,
          columns: [
            { key: 'label', label: 'Year', format: fmt.text },
            { key: 'revenue', label: 'Revenue', format: money },
            { key: 'orders', label: 'Orders', format: fmt.int },
            { key: 'aov', label: 'Average order', format: money2 },
            { key: 'revenue_yoy_change_pct', label: 'Change', format: fmt.percent(1) },
          ],
          rows: [...years].reverse().map((y) => ({ ...y, label: `${y.year}${isTrue(y.is_partial_period) ? ' (partial)' : ''}` })),
          noun: 'years',
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'line',
          title: 'Average order value and revenue per customer by month',
          description: 'Average order value (revenue / orders) and revenue per ordering account, per month',
          source: VIEWS.revenueByMonth,
          x: { label: 'Month of ordering (UTC)' },
          y: { label: 'Amount', unit: CURRENCY, format: money },
          series: [
            { name: 'Average order value', points: months.map((m) => [m.month_start, m.aov]), color: 'blue' },
            { name: 'Revenue per customer', points: months.map((m) => [m.month_start, m.revenue_per_customer]), color: 'orange' },
          ],
          ...partialSegment(months.map((m) => ({ date: m.month_start, partial: isTrue(m.is_partial_period) }))),
        },
        table: {
          ...monthTable,
          title: 'Average order value by month, latest first',
          columns: [
            { key: 'month', label: 'Month', format: fmt.text },
            { key: 'aov', label: 'Average order', format: money2 },
            { key: 'customers', label: 'Accounts', format: fmt.int },
            { key: 'revenue_per_customer', label: 'Per account', format: money2 },
          ],
        },
      },
    );
    if (conc) blocks.push({ kind: 'figures', title: 'Concentration', figures: concentrationFigures(conc, categories.rows[0]) });
    if (products.rows.length > 0) {
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: `Top ${products.rows.length} products: revenue share and running share`,
          description: `Pareto chart: the revenue share of each of the ${products.rows.length} products with the most revenue (bars) and the running share of all revenue (line), by rank`,
          source: VIEWS.productPerformance,
          x: { label: 'Product, by revenue rank', categories: products.rows.map((p, i) => String(i + 1)) },
          y: { label: 'Share of revenue', unit: '%', format: fmt.percent(1) },
          series: [{ name: 'Share of revenue', values: products.rows.map((p) => p.revenue_share) }],
          line: { name: 'Running share', values: products.rows.map((p) => p.cumulative_share), axis: { label: 'Running share', unit: '%', format: fmt.percent(0), min: 0, max: 1 }, color: 'vermillion' },
        },
        table: {
          title: 'Products by revenue',
          source: VIEWS.productPerformance,
          columns: [
            { key: 'revenue_rank', label: 'Rank', format: fmt.int },
            { key: 'product_name', label: 'Product', format: fmt.text },
            { key: 'revenue', label: 'Revenue', format: money },
            { key: 'revenue_share', label: 'Share', format: fmt.percent(1) },
            { key: 'cumulative_share', label: 'Running', format: fmt.percent(1) },
          ],
          rows: products.rows,
          total: products.total,
          noun: 'products',
          maxRows: TOP_PRODUCTS,
        },
      });
    }
    if (categories.rows.length > 0) {
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Categories: revenue share and running share',
          description: 'Pareto chart of product categories: each category\'s share of revenue (bars) and the running share (line), largest first',
          source: VIEWS.productPerformance,
          x: { label: 'Category, by revenue', categories: categories.rows.map((c) => c.category) },
          y: { label: 'Share of revenue', unit: '%', format: fmt.percent(1) },
          series: [{ name: 'Share of revenue', values: categories.rows.map((c) => c.category_share), color: 'green' }],
          line: { name: 'Running share', values: categories.rows.map((c) => c.category_cumulative_share), axis: { label: 'Running share', unit: '%', format: fmt.percent(0), min: 0, max: 1 }, color: 'vermillion' },
        },
        table: {
          title: 'Categories by revenue',
          source: VIEWS.productPerformance,
          columns: [
            { key: 'category', label: 'Category', format: fmt.text },
            { key: 'products', label: 'Products', format: fmt.int },
            { key: 'category_revenue', label: 'Revenue', format: money },
            { key: 'category_share', label: 'Share', format: fmt.percent(1) },
            { key: 'category_cumulative_share', label: 'Running', format: fmt.percent(1) },
          ],
          rows: categories.rows,
          total: categories.total,
          noun: 'categories',
          maxRows: TOP_CATEGORIES,
        },
      });
    }
    blocks.push({
      kind: 'note',
      text: `Revenue counts the order lines that are not cancelled or returned, in the ${CURRENCY} of the exports (they name none). A partial month or year (drawn lighter, marked *) is one the data does not cover from its first day to its last (it starts with the first order or ends at the as-of date): its change on a year before is not computed. Shares are of all revenue since the first order; ranks and running shares are the mart's (ties in product id order).`,
    });
    return {
      asOf,
      range: { from: first, to: asOf },
      intro: 'What the orders bring in, month by month and year by year, and how much of it rests on a few products and categories.',
      blocks,
    };
  },
};

/** Revenue's share of the executive summary: the headline month's figures, concentration and the change on a year before. */
export async function revenueSummary(source: ReportSource): Promise<SummaryContribution | undefined> {
  const asOf = await crmAsOf(source);
  const months = asOf ? await revenueByMonth(source) : [];
  if (!asOf || months.length === 0) return undefined;
  const figures = revenueFigures(months);
  const insights: Insight[] = [];
  const conc = await concentration(source);
  if (conc && conc.topShare !== null && conc.products >= 2) {
    insights.push({
      area: 'Revenue',
      finding: `The top ${Math.round(TOP_SHARE_OF_PRODUCTS * 100)} % of products bring ${pct(conc.topShare)} of revenue.`,
      evidence: `${count(conc.top)} of ${count(conc.products)} products; ${count(conc.forPareto)} make ${Math.round(PARETO_SHARE * 100)} %`,
      pageId: PAGE_IDS.revenue,
    });
  }
  const m = headlineMonth(months)!.current;
  if (m.revenue_yoy_change_pct !== null && m.revenue_prior_year !== null) {
    const change = Number(m.revenue_yoy_change_pct);
    insights.push({
      area: 'Revenue',
      finding:
        change === 0
          ? `Revenue in ${monthLabel(m.month_start)} equals ${monthLabel(addMonths(m.month_start, -12))}'s.`
          : `Revenue in ${monthLabel(m.month_start)} is ${pct(Math.abs(change))} ${change > 0 ? 'above' : 'below'} the same month a year before.`,
      evidence: `${count(m.revenue)} against ${count(m.revenue_prior_year)} in ${monthLabel(addMonths(m.month_start, -12))}`,
      pageId: PAGE_IDS.revenue,
    });
  }
  return {
    group: { title: 'Revenue and products', pageId: PAGE_IDS.revenue, asOf, range: { from: months[0]!.month_start, to: asOf }, figures: figures.slice(0, 3) },
    insights,
  };
}
