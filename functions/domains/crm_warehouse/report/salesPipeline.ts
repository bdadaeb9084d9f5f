/**
 * The "Sales pipeline" page and its share of the executive summary: the funnel by stage with the
 * share of deals that went on from each, the win rate (over all closed deals, and per month of
 * closing), the sales cycle, days in each stage, and the open pipeline with its weighted value.
 * Every figure is a column of `gold.mtr_sales_pipeline` or of `reporting.crm_deal_outcomes_by_month`
 * (the same win-rate definition per month); the totals over open stages are sums of its columns.
 */
import type { IsoDate } from '../../../core/dates.js';
import { fmt, headlinePeriod, isTrue, type Block, type Figure, type Insight, type ReportPage, type ReportSource, type SummaryContribution } from '../../../report/page.js';
import { addMonths, count, crmAsOf, CURRENCY, money, monthLabel, PAGE_IDS, pct, VIEWS } from './common.js';

const TABLE_MONTHS = 12;
const OPEN_STAGES = 4; // stage_order 1–4: prospecting … negotiation

export interface StageRow {
  stage: string;
  stage_order: number;
  open_deals: number;
  pipeline_value: number;
  weighted_value: number;
  deals_entered: number;
  deals_advanced: number;
  conversion_rate: number | null;
  avg_days_in_stage: number | null;
  won_deals: number;
  lost_deals: number;
  win_rate: number | null;
  avg_won_deal_size: number | null;
  median_sales_cycle_days: number | null;
}

export interface OutcomeMonth {
  month_start: IsoDate;
  won_deals: number;
  lost_deals: number;
  win_rate: number | null;
  won_value: number;
  is_partial_period: boolean;
}

export function pipelineStages(source: ReportSource): Promise<StageRow[]> {
  return source.warehouse.query<StageRow>(
    `SELECT stage, stage_order, open_deals, pipeline_value, weighted_value, deals_entered, deals_advanced, conversion_rate, avg_days_in_stage,
            won_deals, lost_deals, win_rate, avg_won_deal_size, median_sales_cycle_days
     FROM ${VIEWS.salesPipeline}
     ORDER BY stage_order`,
  );
}

function outcomeMonths(source: ReportSource): Promise<OutcomeMonth[]> {
  return source.warehouse.query<OutcomeMonth>(`SELECT month_start, won_deals, lost_deals, win_rate, won_value, is_partial_period FROM ${VIEWS.dealOutcomesByMonth} ORDER BY month_start`);
}

/** Pipeline-wide columns (the same on every row) and the open pipeline: sums of the open stages' columns. */
function totals(stages: StageRow[]) {
  const open = stages.filter((s) => s.stage_order <= OPEN_STAGES);
  const sum = (pick: (s: StageRow) => number) => open.reduce((a, s) => a + Number(pick(s)), 0);
  return { kpis: stages[0]!, openDeals: sum((s) => s.open_deals), pipeline: sum((s) => s.pipeline_value), weighted: sum((s) => s.weighted_value) };
}

const hasDeals = (stages: StageRow[]) => stages.some((s) => Number(s.deals_entered) > 0);

/** Win rate in the latest complete month of closing against the month before; then the mart's pipeline-wide figures. */
export function pipelineFigures(stages: StageRow[], months: OutcomeMonth[]): Figure[] {
  const { kpis, openDeals, pipeline, weighted } = totals(stages);
  const figures: Figure[] = [];
  const period = headlinePeriod(months, (m) => m.month_start, (k) => addMonths(k, -1));
  if (period) {
    const { current: m, previous: p } = period;
    figures.push({
      id: 'crm.win_rate_month',
      label: `Win rate, deals closed in ${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial)' : ''}`,
      value: m.win_rate,
      format: fmt.percent(1),
      previous: { value: p ? p.win_rate : null, label: `the month before (${monthLabel(addMonths(m.month_start, -1))})` },
      better: 'up',
      note: `${count(m.won_deals)} won, ${count(m.lost_deals)} lost`,
    });
  }
  figures.push(
    { id: 'crm.win_rate', label: 'Win rate, all closed deals', value: kpis.win_rate, format: fmt.percent(1), note: `${count(kpis.won_deals)} won, ${count(kpis.lost_deals)} lost: won / (won + lost)` },
    { id: 'crm.median_sales_cycle', label: 'Median sales cycle', value: kpis.median_sales_cycle_days, format: fmt.number(1, 'days'), note: 'creation to closing, won deals' },
    { id: 'crm.avg_won_deal', label: 'Average won deal', value: kpis.avg_won_deal_size, format: money, note: `amount, in the ${CURRENCY}` },
    {
      id: 'crm.weighted_pipeline',
      label: 'Weighted pipeline',
      value: weighted,
      format: money,
      note: `amount × probability of the ${count(openDeals)} open ${openDeals === 1 ? 'deal' : 'deals'}, whose amount is ${count(pipeline)}`,
    },
  );
  return figures;
}

const stageName = (s: string) => s.replace('_', ' ');

export const salesPipelinePage: ReportPage = {
  id: PAGE_IDS.pipeline,
  title: 'Sales pipeline',
  order: 50,
  async build(source) {
    const asOf = await crmAsOf(source);
    const stages = asOf ? await pipelineStages(source) : [];
    if (!asOf || !hasDeals(stages)) return undefined;
    const months = await outcomeMonths(source);
    const [firstDeal] = await source.warehouse.query<{ first_date: IsoDate }>(`SELECT MIN(CAST(created_at AS DATE)) AS first_date FROM ${VIEWS.deals}`);
    const funnel = stages.filter((s) => s.stage !== 'closed_lost');
    const open = stages.filter((s) => s.stage_order <= OPEN_STAGES);
    const stageRows = stages.map((s) => ({ ...s, name: stageName(s.stage) }));
    const blocks: Block[] = [
      { kind: 'figures', figures: pipelineFigures(stages, months) },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Deals entering each stage, and the share that went on',
          description: 'Sales funnel: deals that ever entered each stage (bars) and, of those, the share that later reached a later stage other than lost (line)',
          source: VIEWS.salesPipeline,
          x: { label: 'Stage', categories: funnel.map((s) => stageName(s.stage)) },
          y: { label: 'Deals entered', unit: 'deals', format: fmt.int },
          series: [{ name: 'Deals entered', values: funnel.map((s) => s.deals_entered) }],
          line: { name: 'Went on to a later stage', values: funnel.map((s) => s.conversion_rate), axis: { label: 'Conversion', unit: '%', format: fmt.percent(0), min: 0, max: 1 }, color: 'vermillion' },
        },
        table: {
          title: 'Funnel by stage',
          source: VIEWS.salesPipeline,
          columns: [
            { key: 'name', label: 'Stage', format: fmt.text },
            { key: 'deals_entered', label: 'Entered', format: fmt.int },
            { key: 'deals_advanced', label: 'Went on', format: fmt.int },
            { key: 'conversion_rate', label: 'Conversion', format: fmt.percent(1) },
          ],
          rows: stageRows,
          noun: 'stages',
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Open pipeline by stage',
          description: 'The amount of the open deals in each stage and its weighted value (amount × probability)',
          source: VIEWS.salesPipeline,
          x: { label: 'Stage', categories: open.map((s) => stageName(s.stage)) },
          y: { label: 'Amount', unit: CURRENCY, format: money },
          series: [
            { name: 'Pipeline', values: open.map((s) => s.pipeline_value), color: 'blue' },
            { name: 'Weighted', values: open.map((s) => s.weighted_value), color: 'orange' },
          ],
        },
        table: {
          title: 'Open pipeline by stage',
          source: VIEWS.salesPipeline,
          columns: [
            { key: 'name', label: 'Stage', format: fmt.text },
            { key: 'open_deals', label: 'Open deals', format: fmt.int },
            { key: 'pipeline_value', label: 'Pipeline', format: money },
            { key: 'weighted_value', label: 'Weighted', format: money },
          ],
          rows: stageRows.filter((s) => s.stage_order <= OPEN_STAGES),
          noun: 'stages',
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Average days in each stage',
          description: 'Mean calendar days deals spent in each open stage, over the stage periods that ended',
          source: VIEWS.salesPipeline,
          x: { label: 'Stage', categories: open.map((s) => stageName(s.stage)) },
          y: { label: 'Days in stage', unit: 'days', format: fmt.number(1) },
          series: [{ name: 'Average days', values: open.map((s) => s.avg_days_in_stage), color: 'purple' }],
          horizontal: true,
        },
        table: {
          title: 'Days in stage',
          source: VIEWS.salesPipeline,
          columns: [
            { key: 'name', label: 'Stage', format: fmt.text },
            { key: 'avg_days_in_stage', label: 'Average days', format: fmt.number(1) },
          ],
          rows: stageRows.filter((s) => s.stage_order <= OPEN_STAGES),
          noun: 'stages',
        },
      },
    ];
    if (months.length > 0) {
      blocks.push({
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Deals closed per month, and the win rate',
          description: `Deals closed won and lost per month of closing (stacked bars) and the win rate (line), ${monthLabel(months[0]!.month_start)} to ${monthLabel(months.at(-1)!.month_start)}`,
          source: VIEWS.dealOutcomesByMonth,
          x: { label: 'Month of closing', categories: months.map((m) => monthLabel(m.month_start)) },
          y: { label: 'Deals closed', unit: 'deals', format: fmt.int },
          series: [
            { name: 'Won', values: months.map((m) => m.won_deals), color: 'green' },
            { name: 'Lost', values: months.map((m) => m.lost_deals), color: 'grey' },
          ],
          stacked: true,
          line: { name: 'Win rate', values: months.map((m) => m.win_rate), axis: { label: 'Win rate', unit: '%', format: fmt.percent(0), min: 0, max: 1 }, color: 'vermillion' },
          partial: months.filter((m) => isTrue(m.is_partial_period)).map((m) => monthLabel(m.month_start)),
        },
        table: {
          title: 'Deals closed per month, latest first',
          source: VIEWS.dealOutcomesByMonth,
          columns: [
            { key: 'month', label: 'Month', format: fmt.text },
            { key: 'won_deals', label: 'Won', format: fmt.int },
            { key: 'lost_deals', label: 'Lost', format: fmt.int },
            { key: 'win_rate', label: 'Win rate', format: fmt.percent(1) },
            { key: 'won_value', label: 'Won value', format: money },
          ],
          rows: months
            .slice(-TABLE_MONTHS)
            .reverse()
            .map((m) => ({ ...m, month: `${monthLabel(m.month_start)}${isTrue(m.is_partial_period) ? ' (partial)' : ''}` })),
          total: months.length,
          noun: 'months',
          maxRows: TABLE_MONTHS,
        },
      });
    }
    blocks.push({
      kind: 'note',
      text: `Deals as they are on the as-of date. "Entered" counts the deals that were ever in a stage (from the stage history); "went on", those of them that later reached a later stage other than lost; conversion is went on / entered. The win rate is won / (won + lost); the sales cycle counts calendar days from creation to closing of the won deals; days in stage are the mean of the stage periods that ended. Amounts are in the ${CURRENCY}; the weighted value is amount × probability.`,
    });
    return {
      asOf,
      range: { from: firstDeal?.first_date ?? asOf, to: asOf },
      intro: 'Where the deals are, how many move on from each stage, how often they are won and how long that takes.',
      blocks,
    };
  },
};

/** The pipeline's share of the executive summary: the month's win rate, the weighted pipeline and the cycle; the weakest stage when one is. */
export async function pipelineSummary(source: ReportSource): Promise<SummaryContribution | undefined> {
  const asOf = await crmAsOf(source);
  const stages = asOf ? await pipelineStages(source) : [];
  if (!asOf || !hasDeals(stages)) return undefined;
  const months = await outcomeMonths(source);
  const [firstDeal] = await source.warehouse.query<{ first_date: IsoDate }>(`SELECT MIN(CAST(created_at AS DATE)) AS first_date FROM ${VIEWS.deals}`);
  const figures = pipelineFigures(stages, months);
  const insights: Insight[] = [];
  const converting = stages.filter((s) => s.conversion_rate !== null && Number(s.deals_entered) > 0).sort((a, b) => Number(a.conversion_rate) - Number(b.conversion_rate));
  const [weakest, next] = converting;
  // only a stage that converts strictly least is named
  if (weakest && next && Number(weakest.conversion_rate) < Number(next.conversion_rate)) {
    insights.push({
      area: 'Sales pipeline',
      finding: `${stageName(weakest.stage)[0]!.toUpperCase()}${stageName(weakest.stage).slice(1)} converts least: ${pct(weakest.conversion_rate)} of the deals that entered it went on to a later stage.`,
      evidence: `${count(weakest.deals_advanced)} of ${count(weakest.deals_entered)} deals; win rate ${pct(stages[0]!.win_rate)} over all closed deals`,
      pageId: PAGE_IDS.pipeline,
    });
  }
  return {
    group: {
      title: 'Sales pipeline',
      pageId: PAGE_IDS.pipeline,
      asOf,
      range: { from: firstDeal?.first_date ?? asOf, to: asOf },
      figures: figures.filter((f) => ['crm.win_rate_month', 'crm.weighted_pipeline', 'crm.median_sales_cycle'].includes(f.id)),
    },
    insights,
  };
}
