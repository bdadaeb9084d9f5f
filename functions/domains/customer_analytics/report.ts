/**
 * The customer analytics page of the HTML report ("Customers", tab order 30) and the domain's
 * share of the executive summary (docs/report.md). Every figure is a column of a customer mart,
 * read through the `reporting.customer_*` views Power BI reads; the page only groups them for its
 * charts (customers per segment, per band of lifetime value or churn score, per campaign and
 * priority) and computes no metric of its own. "As of" is the marts' as-of date
 * (`reporting.customer_as_of`: the last transaction date or ANALYTICS_AS_OF_DATE), never the clock.
 */
import type { IsoDate } from '../../core/dates.js';
import { fmt, headlinePeriod, isTrue, partialSegment, topRows, type Block, type DomainReport, type Figure, type Insight, type ReportPage, type ReportSource } from '../../report/page.js';
import { CAMPAIGNS, SEGMENTS } from './models.js';

const PAGE_ID = 'customers';

const VIEWS = {
  asOf: 'reporting.customer_as_of',
  monthly: 'reporting.customer_monthly_metrics',
  segments: 'reporting.customer_segment_summary',
  customers: 'reporting.customer_360',
  cohorts: 'reporting.customer_cohort_retention',
  churnModel: 'reporting.customer_churn_model',
  campaigns: 'reporting.customer_campaign_targets',
  insights: 'reporting.customer_business_insights',
} as const;

/** Transactions carry amounts without a currency, so the report names none (as the CRM pages do). */
const CURRENCY = 'currency of the data';
const money = fmt.number(0);
const money2 = fmt.number(2);
const percentPoints = fmt.number(1, '%');

/** Months in the table beside the monthly chart; cohorts in the heatmap and its table. */
const TABLE_MONTHS = 12;
const HEATMAP_COHORTS = 24;
const TABLE_COHORTS = 12;
const TOP_TARGETS = 15;
/** Lower bounds of the lifetime-value bands (the last is open-ended). */
const LTV_BANDS = [0, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** Churn risk score bands of 10 points; the last is 90–100. */
const SCORE_BANDS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
const PRIORITIES = ['High', 'Medium', 'Low'] as const;

interface AsOf {
  as_of_date: IsoDate;
  as_of_source: string;
  first_transaction_date: IsoDate;
  last_transaction_date: IsoDate;
}

interface Month {
  month_start: IsoDate;
  revenue: number;
  orders: number;
  customers: number;
  new_customers: number;
  returning_customers: number;
  average_order_value: number | null;
  is_partial_period: boolean;
}

interface Risk {
  customers: number;
  high_risk: number;
  high_risk_value: number | null;
}

interface InsightRow {
  insight_key: string;
  insight_type: string;
  title: string;
  metric_value: number | null;
  metric_count: number | null;
  detail: string;
  priority: string;
}

interface ChurnModel {
  method: string;
  model_version: string;
  trained_as_of: IsoDate;
  holdout_date: IsoDate | null;
  label_days: number;
  train_rows: number;
  holdout_rows: number;
  base_rate: number | null;
  holdout_auc: number | null;
  holdout_log_loss: number | null;
  train_auc: number | null;
  note: string;
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const count = (v: number | null | undefined): string => grouped.format(Number(v ?? 0));
const monthLabel = (monthStart: IsoDate): string => monthStart.slice(0, 7);
function addMonths(monthStart: IsoDate, n: number): IsoDate {
  const d = new Date(Date.UTC(Number(monthStart.slice(0, 4)), Number(monthStart.slice(5, 7)) - 1 + n, 1));
  return d.toISOString().slice(0, 10);
}
const bandLabel = (bounds: number[], i: number, top?: number): string =>
  i < bounds.length - 1 ? `${count(bounds[i])}–${count(bounds[i + 1]! - (top === undefined ? 0 : 1))}` : top === undefined ? `${count(bounds[i])}+` : `${count(bounds[i])}–${count(top)}`;
/** `CASE WHEN x >= b9 THEN 9 … ELSE 0 END`: the band index of `x` (the lowest band takes anything below its bound, such as a net refund). */
const bandCase = (expr: string, bounds: number[]): string => `CASE ${bounds.map((b, i) => [b, i] as const).slice(1).reverse().map(([b, i]) => `WHEN ${expr} >= ${b} THEN ${i}`).join(' ')} ELSE 0 END`;

/** The mart's sentence with its amounts grouped for reading (`64630.49` → `64,630.49`); years and counts stay as written. */
const groupThousands = (text: string): string => text.replace(/\b(\d{4,})(\.\d{2})\b/g, (_, int: string, dec: string) => `${int.replace(/\B(?=(\d{3})+$)/g, ',')}${dec}`);

async function asOfRow(source: ReportSource): Promise<AsOf | undefined> {
  const [row] = await source.warehouse.query<AsOf>(`SELECT as_of_date, as_of_source, first_transaction_date, last_transaction_date FROM ${VIEWS.asOf}`);
  return row;
}

function months(source: ReportSource): Promise<Month[]> {
  return source.warehouse.query<Month>(
    `SELECT month_start, revenue, orders, customers, new_customers, returning_customers, average_order_value, is_partial_period FROM ${VIEWS.monthly} ORDER BY month_start`,
  );
}

async function risk(source: ReportSource): Promise<Risk> {
  const [row] = await source.warehouse.query<Risk>(
    `SELECT COUNT(*) AS customers,
            SUM(CASE WHEN is_high_churn_risk = 1 THEN 1 ELSE 0 END) AS high_risk,
            SUM(CASE WHEN is_high_churn_risk = 1 THEN lifetime_value ELSE 0 END) AS high_risk_value
     FROM ${VIEWS.customers} WHERE has_purchased = 1`,
  );
  return { customers: Number(row?.customers ?? 0), high_risk: Number(row?.high_risk ?? 0), high_risk_value: row?.high_risk_value ?? 0 };
}

function insightRows(source: ReportSource): Promise<InsightRow[]> {
  return source.warehouse.query<InsightRow>(
    `SELECT insight_key, insight_type, title, metric_value, metric_count, detail, priority FROM ${VIEWS.insights}
     ORDER BY CASE priority WHEN 'High' THEN 1 WHEN 'Medium' THEN 2 ELSE 3 END, insight_key`,
  );
}

/** The headline figures: the latest complete month against the month before, then the customer base as of the as-of date. */
function headlineFigures(ms: Month[], r: Risk, insights: InsightRow[], settings: ReportSource['settings']): Figure[] {
  const figures: Figure[] = [];
  const period = headlinePeriod(ms, (m) => m.month_start, (k) => addMonths(k, -1));
  if (period) {
    const { current: m, previous: p } = period;
    const label = `the month before (${monthLabel(addMonths(m.month_start, -1))})`;
    const previous = (pick: (row: Month) => number | null) => ({ value: p ? pick(p) : null, label });
    const which = `${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial: no month is complete yet)' : ''}`;
    figures.push(
      { id: 'customers.revenue_month', label: `Revenue, ${which}`, value: m.revenue, format: money, previous: previous((x) => x.revenue), better: 'up', note: 'approved spend, net of refunds' },
      { id: 'customers.customers_month', label: `Customers who bought, ${which}`, value: m.customers, format: fmt.int, previous: previous((x) => x.customers), better: 'up', note: `${count(m.new_customers)} new, ${count(m.returning_customers)} returning` },
      { id: 'customers.aov_month', label: `Average order value, ${which}`, value: m.average_order_value, format: money2, previous: previous((x) => x.average_order_value), better: 'up', note: 'revenue / purchases' },
    );
  }
  const oneTime = insights.find((i) => i.insight_key === 'one_time_buyers');
  figures.push(
    { id: 'customers.customers', label: 'Customers who have bought', value: r.customers, format: fmt.int, note: 'with an approved purchase up to the as-of date' },
    ...(oneTime ? [{ id: 'customers.one_time_buyers', label: 'One-time buyers', value: oneTime.metric_value === null ? null : Number(oneTime.metric_value), format: percentPoints, better: 'down', note: `${count(oneTime.metric_count)} customers bought exactly once` } satisfies Figure] : []),
    { id: 'customers.high_churn_risk', label: 'Customers at high churn risk', value: r.high_risk, format: fmt.int, better: 'down', note: `who bought, with a churn risk score of ${settings.CUSTOMER_HIGH_CHURN_SCORE} or more` },
    { id: 'customers.high_churn_risk_value', label: 'Their lifetime value', value: r.high_risk_value, format: money, note: `approved spend of those ${count(r.high_risk)} customers` },
  );
  return figures;
}

const customersPage: ReportPage = {
  id: PAGE_ID,
  title: 'Customers',
  order: 30,
  async build(source) {
    const asOf = await asOfRow(source);
    const ms = asOf ? await months(source) : [];
    if (!asOf || ms.length === 0) return undefined;
    const wh = source.warehouse;
    const [r, insights] = [await risk(source), await insightRows(source)];
    const segments = await wh.query<{ segment: string; customers: number; share_pct: number | null; lifetime_value: number | null; average_lifetime_value: number | null; average_churn_risk_score: number | null }>(
      `SELECT segment, customers, share_pct, lifetime_value, average_lifetime_value, average_churn_risk_score FROM ${VIEWS.segments} ORDER BY segment`,
    );
    segments.sort((a, b) => SEGMENTS.indexOf(a.segment) - SEGMENTS.indexOf(b.segment));
    const ltvBands = await wh.query<{ band: number; customers: number; lifetime_value: number | null }>(
      `SELECT band, COUNT(*) AS customers, SUM(lifetime_value) AS lifetime_value
       FROM (SELECT ${bandCase('lifetime_value', LTV_BANDS)} AS band, lifetime_value FROM ${VIEWS.customers} WHERE has_purchased = 1) b
       GROUP BY band ORDER BY band`,
    );
    const scoreBands = await wh.query<{ band: number; customers: number; lifetime_value: number | null }>(
      `SELECT band, COUNT(*) AS customers, SUM(lifetime_value) AS lifetime_value
       FROM (SELECT ${bandCase('churn_risk_score', SCORE_BANDS)} AS band, lifetime_value FROM ${VIEWS.customers} WHERE churn_risk_score IS NOT NULL) b
       GROUP BY band ORDER BY band`,
    );
    const [model] = await wh.query<ChurnModel>(
      `SELECT method, model_version, trained_as_of, holdout_date, label_days, train_rows, holdout_rows, base_rate, holdout_auc, holdout_log_loss, train_auc, note FROM ${VIEWS.churnModel}`,
    );
    const cohortList = await wh.query<{ cohort_month: IsoDate }>(`SELECT DISTINCT cohort_month FROM ${VIEWS.cohorts} ORDER BY cohort_month`);
    const shownCohorts = cohortList.slice(-HEATMAP_COHORTS).map((c) => c.cohort_month);
    const cohorts = shownCohorts.length
      ? await wh.query<{ cohort_month: IsoDate; months_since_first: number; cohort_customers: number; retention_pct: number; is_partial_period: boolean }>(
          `SELECT cohort_month, months_since_first, cohort_customers, retention_pct, is_partial_period FROM ${VIEWS.cohorts} WHERE cohort_month >= @from ORDER BY cohort_month, months_since_first`,
          { from: shownCohorts[0]! },
        )
      : [];
    const campaigns = await wh.query<{ campaign: string; priority: string; customers: number; estimated_value: number | null }>(
      `SELECT campaign, priority, COUNT(*) AS customers, SUM(estimated_value) AS estimated_value FROM ${VIEWS.campaigns} GROUP BY campaign, priority ORDER BY campaign, priority`,
    );
    const campaignTotals = await wh.query<{ campaign: string; customers: number; estimated_value: number | null }>(
      `SELECT campaign, COUNT(*) AS customers, SUM(estimated_value) AS estimated_value FROM ${VIEWS.campaigns} GROUP BY campaign ORDER BY campaign`,
    );
    const targets = await topRows<{ customer_id: string; name: string; campaign: string; priority: string; reason: string; estimated_value: number; segment: string; churn_risk_score: number | null }>(
      wh,
      `SELECT customer_id, CONCAT(COALESCE(first_name, ''), ' ', COALESCE(last_name, '')) AS name, campaign, priority, reason, estimated_value, segment, churn_risk_score FROM ${VIEWS.campaigns}`,
      `CASE priority WHEN 'High' THEN 1 WHEN 'Medium' THEN 2 ELSE 3 END, estimated_value DESC, customer_id`,
      TOP_TARGETS,
    );

    const first = ms[0]!.month_start;
    const moneyAxis = (label: string) => ({ label, unit: CURRENCY, format: money });
    const blocks: Block[] = [{ kind: 'figures', figures: headlineFigures(ms, r, insights, source.settings) }];

    // revenue and customers per month
    blocks.push({
      kind: 'chart',
      chart: {
        kind: 'bar',
        title: 'Revenue by month',
        description: `Approved spend per calendar month, ${monthLabel(first)} to ${monthLabel(ms.at(-1)!.month_start)}; a month the data does not cover in full is drawn lighter and marked`,
        source: VIEWS.monthly,
        x: { label: 'Month of purchase', categories: ms.map((m) => monthLabel(m.month_start)) },
        y: moneyAxis('Revenue'),
        series: [{ name: 'Revenue', values: ms.map((m) => m.revenue) }],
        partial: ms.filter((m) => isTrue(m.is_partial_period)).map((m) => monthLabel(m.month_start)),
      },
      table: {
        title: 'Revenue and customers by month, latest first',
        source: VIEWS.monthly,
        columns: [
          { key: 'month', label: 'Month', format: fmt.text },
          { key: 'revenue', label: 'Revenue', format: money },
          { key: 'orders', label: 'Purchases', format: fmt.int },
          { key: 'customers', label: 'Customers', format: fmt.int },
          { key: 'new_customers', label: 'New', format: fmt.int },
        ],
        rows: ms.slice(-TABLE_MONTHS).reverse().map((m) => ({ ...m, month: `${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial)' : ''}` })),
        total: ms.length,
        noun: 'months',
        maxRows: TABLE_MONTHS,
      },
    });
    blocks.push({
      kind: 'chart',
      chart: {
        kind: 'line',
        title: 'New and returning customers by month',
        description: 'Customers who bought in each month: those whose first purchase was in it, and the others',
        source: VIEWS.monthly,
        x: { label: 'Month of purchase (UTC)' },
        y: { label: 'Customers', unit: 'customers', format: fmt.int },
        series: [
          { name: 'New', points: ms.map((m) => [m.month_start, m.new_customers]), color: 'orange' },
          { name: 'Returning', points: ms.map((m) => [m.month_start, m.returning_customers]), color: 'blue' },
        ],
        ...partialSegment(ms.map((m) => ({ date: m.month_start, partial: isTrue(m.is_partial_period) }))),
      },
      table: {
        title: 'New and returning customers, latest first',
        source: VIEWS.monthly,
        columns: [
          { key: 'month', label: 'Month', format: fmt.text },
          { key: 'new_customers', label: 'New', format: fmt.int },
          { key: 'returning_customers', label: 'Returning', format: fmt.int },
          { key: 'average_order_value', label: 'Average order', format: money2 },
        ],
        rows: ms.slice(-TABLE_MONTHS).reverse().map((m) => ({ ...m, month: `${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial)' : ''}` })),
        total: ms.length,
        noun: 'months',
        maxRows: TABLE_MONTHS,
      },
    });

    // segments: sizes and value
    if (segments.length > 0) {
      const segmentColumns = {
        segment: { key: 'segment', label: 'Segment', format: fmt.text },
        customers: { key: 'customers', label: 'Customers', format: fmt.int },
        share: { key: 'share_pct', label: 'Share', format: percentPoints },
        churn: { key: 'average_churn_risk_score', label: 'Avg churn score', format: fmt.number(1) },
        value: { key: 'lifetime_value', label: 'Lifetime value', format: money },
        average: { key: 'average_lifetime_value', label: 'Per customer', format: money2 },
      };
      blocks.push(
        {
          kind: 'chart',
          chart: {
            kind: 'bar',
            title: 'Customers by segment',
            description: 'How many customers each of the five segments holds, as of the as-of date',
            source: VIEWS.segments,
            x: { label: 'Segment', categories: segments.map((s) => s.segment) },
            y: { label: 'Customers', unit: 'customers', format: fmt.int },
            series: [{ name: 'Customers', values: segments.map((s) => s.customers) }],
          },
          table: { title: 'Segments', source: VIEWS.segments, columns: [segmentColumns.segment, segmentColumns.customers, segmentColumns.share, segmentColumns.churn], rows: segments, noun: 'segments' },
        },
        {
          kind: 'chart',
          chart: {
            kind: 'bar',
            title: 'Lifetime value by segment',
            description: 'The lifetime value (approved spend) of each segment\'s customers together',
            source: VIEWS.segments,
            x: { label: 'Segment', categories: segments.map((s) => s.segment) },
            y: moneyAxis('Lifetime value'),
            series: [{ name: 'Lifetime value', values: segments.map((s) => s.lifetime_value), color: 'green' }],
          },
          table: { title: 'Lifetime value by segment', source: VIEWS.segments, columns: [segmentColumns.segment, segmentColumns.value, segmentColumns.average], rows: segments, noun: 'segments' },
        },
      );
    }

    // lifetime value distribution
    if (ltvBands.length > 0) {
      const rows = LTV_BANDS.map((_, i) => {
        const b = ltvBands.find((x) => Number(x.band) === i);
        return { band: bandLabel(LTV_BANDS, i), customers: Number(b?.customers ?? 0), lifetime_value: b?.lifetime_value ?? 0 };
      });
      const last = rows.findLastIndex((x) => x.customers > 0);
      const shown = rows.slice(0, last + 1);
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Lifetime value distribution',
          description: 'Customers who have bought, by band of lifetime value (approved spend, net of refunds)',
          source: VIEWS.customers,
          x: { label: `Lifetime value band (${CURRENCY})`, categories: shown.map((x) => x.band) },
          y: { label: 'Customers', unit: 'customers', format: fmt.int },
          series: [{ name: 'Customers', values: shown.map((x) => x.customers), color: 'purple' }],
        },
        table: {
          title: 'Customers by lifetime value band',
          source: VIEWS.customers,
          columns: [
            { key: 'band', label: 'Lifetime value', format: fmt.text },
            { key: 'customers', label: 'Customers', format: fmt.int },
            { key: 'lifetime_value', label: 'Their value', format: money },
          ],
          rows: shown,
          noun: 'bands',
        },
      });
    }

    // cohort retention
    if (cohorts.length > 0) {
      const maxMonth = Math.max(...cohorts.map((c) => Number(c.months_since_first)));
      const xs = Array.from({ length: maxMonth + 1 }, (_, i) => String(i));
      const ys = shownCohorts.map(monthLabel);
      const cell = (c: IsoDate, k: number) => cohorts.find((x) => x.cohort_month === c && Number(x.months_since_first) === k);
      const tableMonths = [1, 3, 6].filter((k) => k <= maxMonth);
      const rows = [...shownCohorts].reverse().slice(0, TABLE_COHORTS).map((c) => {
        const row: Record<string, unknown> = { cohort: monthLabel(c), cohort_customers: cell(c, 0)?.cohort_customers ?? 0 };
        for (const k of tableMonths) row[`m${k}`] = cell(c, k)?.retention_pct ?? null;
        return row;
      });
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'heatmap',
          title: 'Cohort retention',
          description: `Per month of first purchase (rows, the latest ${shownCohorts.length} cohorts), the share of its customers who bought again k months later (columns)`,
          source: VIEWS.cohorts,
          x: { label: 'Months since the first purchase', categories: xs },
          y: { label: 'Cohort (month of first purchase)', categories: ys },
          cells: cohorts.map((c) => [Number(c.months_since_first), ys.indexOf(monthLabel(c.cohort_month)), c.retention_pct === null ? null : Number(c.retention_pct)]),
          value: { label: 'Retention', unit: '%', format: percentPoints, min: 0, max: 100 },
        },
        table: {
          title: 'Retention by cohort, latest first',
          source: VIEWS.cohorts,
          columns: [
            { key: 'cohort', label: 'Cohort', format: fmt.text },
            { key: 'cohort_customers', label: 'Customers', format: fmt.int },
            ...tableMonths.map((k) => ({ key: `m${k}`, label: `Month ${k}`, format: percentPoints })),
          ],
          rows,
          total: cohortList.length,
          noun: 'cohorts',
          maxRows: TABLE_COHORTS,
          empty: 'No cohort yet.',
        },
      });
    }

    // churn scores and the model's quality
    if (model) {
      const logistic = model.method === 'logistic_regression';
      blocks.push({
        kind: 'figures',
        title: 'Churn model',
        figures: [
          { id: 'customers.churn_auc', label: 'Holdout AUC', value: model.holdout_auc === null ? null : Number(model.holdout_auc), format: fmt.number(3), note: logistic ? `on ${count(model.holdout_rows)} customers, snapshot ${model.holdout_date ?? '—'}` : 'none: the heuristic scores' },
          { id: 'customers.churn_base_rate', label: 'Base rate', value: model.base_rate === null ? null : Number(model.base_rate), format: fmt.percent(1), note: `churned: no purchase in the ${count(model.label_days)} days after the snapshot` },
          { id: 'customers.churn_train_rows', label: 'Training rows', value: model.train_rows, format: fmt.int, note: logistic ? 'logistic regression' : 'heuristic (recency and frequency)' },
        ],
      });
    }
    if (scoreBands.length > 0) {
      const rows = SCORE_BANDS.map((_, i) => {
        const b = scoreBands.find((x) => Number(x.band) === i);
        return { band: bandLabel(SCORE_BANDS, i, 100), customers: Number(b?.customers ?? 0), lifetime_value: b?.lifetime_value ?? 0 };
      });
      const high = source.settings.CUSTOMER_HIGH_CHURN_SCORE;
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Churn risk score distribution',
          description: `Customers by band of churn risk score (0–100); a score of ${high} or more is high risk`,
          source: VIEWS.customers,
          x: { label: 'Churn risk score band (points)', categories: rows.map((x) => x.band) },
          y: { label: 'Customers', unit: 'customers', format: fmt.int },
          series: [
            { name: `Below ${high}`, values: rows.map((x, i) => (SCORE_BANDS[i]! < high ? x.customers : null)), color: 'skyBlue' },
            { name: `${high} or more`, values: rows.map((x, i) => (SCORE_BANDS[i]! >= high ? x.customers : null)), color: 'vermillion' },
          ],
          stacked: true,
        },
        table: {
          title: 'Customers by churn risk score',
          source: VIEWS.customers,
          columns: [
            { key: 'band', label: 'Score', format: fmt.text },
            { key: 'customers', label: 'Customers', format: fmt.int },
            { key: 'lifetime_value', label: 'Their value', format: money },
          ],
          rows,
          noun: 'bands',
        },
      });
    }

    // campaigns by type and priority
    if (campaigns.length > 0) {
      const types = CAMPAIGNS.filter((c) => campaigns.some((x) => x.campaign === c));
      const pick = (c: string, p: string) => campaigns.find((x) => x.campaign === c && x.priority === p);
      const colors = { High: 'vermillion', Medium: 'orange', Low: 'skyBlue' } as const;
      const campaignRows = types.flatMap((c) => PRIORITIES.filter((p) => pick(c, p)).map((p) => ({ campaign: c, priority: p, customers: pick(c, p)!.customers, estimated_value: pick(c, p)!.estimated_value })));
      const campaignTable = {
        title: 'Campaign targets by type and priority',
        source: VIEWS.campaigns,
        columns: [
          { key: 'campaign', label: 'Campaign', format: fmt.text },
          { key: 'priority', label: 'Priority', format: fmt.text },
          { key: 'customers', label: 'Customers', format: fmt.int },
          { key: 'estimated_value', label: 'Estimated value', format: money },
        ],
        rows: campaignRows,
        noun: 'rows',
      };
      blocks.push(
        {
          kind: 'chart',
          chart: {
            kind: 'bar',
            title: 'Campaign targets by type and priority',
            description: 'Customers to contact per campaign, stacked by priority (at most one campaign per customer)',
            source: VIEWS.campaigns,
            x: { label: 'Campaign', categories: types },
            y: { label: 'Customers', unit: 'customers', format: fmt.int },
            series: PRIORITIES.map((p) => ({ name: `${p} priority`, values: types.map((c) => pick(c, p)?.customers ?? null), color: colors[p] })),
            stacked: true,
          },
          table: campaignTable,
        },
        {
          kind: 'chart',
          chart: {
            kind: 'bar',
            title: 'Estimated value of the campaign targets',
            description: 'The estimated value of each campaign\'s customers, stacked by priority',
            source: VIEWS.campaigns,
            x: { label: 'Campaign', categories: types },
            y: moneyAxis('Estimated value'),
            series: PRIORITIES.map((p) => ({ name: `${p} priority`, values: types.map((c) => pick(c, p)?.estimated_value ?? null), color: colors[p] })),
            stacked: true,
          },
          table: {
            title: 'Campaign targets and their estimated value',
            source: VIEWS.campaigns,
            columns: [
              { key: 'campaign', label: 'Campaign', format: fmt.text },
              { key: 'customers', label: 'Customers', format: fmt.int },
              { key: 'estimated_value', label: 'Estimated value', format: money },
            ],
            rows: [...campaignTotals].sort((a, b) => CAMPAIGNS.indexOf(a.campaign) - CAMPAIGNS.indexOf(b.campaign)),
            noun: 'campaigns',
          },
        },
        {
          kind: 'table',
          table: {
            title: 'Campaign targets: highest priority and value first',
            source: VIEWS.campaigns,
            columns: [
              { key: 'customer_id', label: 'Customer', format: fmt.text },
              { key: 'name', label: 'Name', format: fmt.text },
              { key: 'campaign', label: 'Campaign', format: fmt.text },
              { key: 'priority', label: 'Priority', format: fmt.text },
              { key: 'segment', label: 'Segment', format: fmt.text },
              { key: 'churn_risk_score', label: 'Churn score', format: fmt.int },
              { key: 'estimated_value', label: 'Estimated value', format: money2 },
              { key: 'reason', label: 'Reason', format: fmt.text },
            ],
            rows: targets.rows,
            total: targets.total,
            noun: 'customers',
            maxRows: TOP_TARGETS,
          },
        },
      );
    }

    const s = source.settings;
    blocks.push({
      kind: 'note',
      text:
        `Segments, one per customer, in this order: Lost (no purchase for more than ${s.CUSTOMER_LOST_DAYS} days), New (first purchase within ${s.CUSTOMER_NEW_DAYS} days), ` +
        `High Value (top ${s.CUSTOMER_HIGH_VALUE_TOP_PCT} % by lifetime value and active within ${s.CUSTOMER_ACTIVE_DAYS} days), At Risk (spend in the last 90 days under ${s.CUSTOMER_AT_RISK_SPEND_RATIO} × the prior 90, or a churn score of ${s.CUSTOMER_HIGH_CHURN_SCORE} or more), Regular (the rest). ` +
        `Lifetime value is approved spend net of refunds. Churn scores are ${model?.method === 'logistic_regression' ? 'the logistic regression\'s probability × 100' : `a heuristic's (${model?.note ?? 'no model yet'})`}; ` +
        `the AUC and base rate are measured on the holdout snapshot. Retention is the share of a cohort's customers who bought in its k-th month; a partial month is one the data does not cover in full. ` +
        `Everything is computed as of ${asOf.as_of_date} (${asOf.as_of_source === 'data' ? 'the last transaction date' : 'ANALYTICS_AS_OF_DATE'}), never the clock.`,
    });

    return {
      asOf: asOf.as_of_date,
      range: { from: asOf.first_transaction_date, to: asOf.as_of_date },
      intro: 'Who the customers are, what they are worth, who is slipping away and whom to contact.',
      blocks,
    };
  },
};

export const customerReport: DomainReport = {
  pages: [customersPage],
  /** The headline figures (month against month before, the customer base and its churn risk) and the business_insights rows. */
  async summary(source) {
    const asOf = await asOfRow(source);
    const ms = asOf ? await months(source) : [];
    if (!asOf || ms.length === 0) return undefined;
    const [r, rows] = [await risk(source), await insightRows(source)];
    const figures = headlineFigures(ms, r, rows, source.settings).filter((f) => f.id !== 'customers.aov_month');
    const insights: Insight[] = rows.map((i) => ({
      area: 'Customers',
      finding: groupThousands(i.detail),
      evidence: `${i.title} (${i.priority.toLowerCase()} priority)`,
      pageId: PAGE_ID,
    }));
    return {
      group: { title: 'Customers', pageId: PAGE_ID, asOf: asOf.as_of_date, range: { from: asOf.first_transaction_date, to: asOf.as_of_date }, figures },
      insights,
    };
  },
};
