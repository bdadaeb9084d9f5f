/**
 * The CRM block of the run summaries (`npm start`, `npm run upload`): rows per layer and the few
 * figures an analyst looks at first, read from the metric tables. (Files, rows landed and
 * quarantined are the shared summary's.)
 */
import type { SqlSession } from '../../warehouse/warehouse.js';
import type { Headline } from '../domain.js';
import { CRM_MODELS } from './models.js';

const count = (v: number | null | undefined) => Math.round(v ?? 0).toLocaleString('en-US');
const money = (v: number | null | undefined) => (v ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(1)} %`);

export async function crmHeadlines(session: SqlSession): Promise<Headline[]> {
  const [asOf] = await session.query<{ as_of_date: string }>(`SELECT as_of_date FROM silver.crm_as_of`);
  if (!asOf) return []; // no CRM data yet

  const rows = await Promise.all(
    CRM_MODELS.map(async (m) => {
      const [r] = await session.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${m.name}`);
      return { name: m.name, n: r?.n ?? 0 };
    }),
  );
  const layer = (prefix: string) =>
    rows
      .filter((r) => r.name.startsWith(prefix))
      .map((r) => `${r.name.slice(prefix.length)} ${count(r.n)}`)
      .join(', ');

  const [total] = await session.query<{ revenue: number | null; orders: number | null }>(`SELECT SUM(revenue) AS revenue, SUM(orders) AS orders FROM gold.mtr_revenue_by_month`);
  const closedMonths = await session.query<{ month_start: string; revenue: number; revenue_yoy_change_pct: number | null }>(
    `SELECT month_start, revenue, revenue_yoy_change_pct FROM gold.mtr_revenue_by_month WHERE is_partial_period = 0 ORDER BY month_start DESC`,
  );
  const lastMonth = closedMonths[0];
  const [pipeline] = await session.query<{ win_rate: number | null; won_deals: number; lost_deals: number; avg_won_deal_size: number | null; median_sales_cycle_days: number | null }>(
    `SELECT win_rate, won_deals, lost_deals, avg_won_deal_size, median_sales_cycle_days FROM gold.mtr_sales_pipeline WHERE stage = 'closed_won'`,
  );
  const support = await session.query<{ channel: string; month_start: string; first_response_hours_median: number | null; csat_mean: number | null }>(
    `SELECT channel, month_start, first_response_hours_median, csat_mean FROM gold.mtr_support_performance
     WHERE month_start = (SELECT MAX(month_start) FROM gold.mtr_support_performance WHERE is_partial_period = 0) ORDER BY channel`,
  );
  const products = await session.query<{ revenue_rank: number; cumulative_share: number | null }>(`SELECT revenue_rank, cumulative_share FROM gold.mtr_product_performance ORDER BY cumulative_share`);
  const tenth = Math.max(1, Math.ceil(products.length / 10));

  return [
    { label: 'as of', value: `${asOf.as_of_date} (the latest updated_at in the exports)` },
    { label: 'staging', value: layer('silver.stg_crm_') },
    { label: 'dimensions', value: layer('gold.dim_') },
    { label: 'facts', value: layer('gold.fact_') },
    { label: 'metrics', value: layer('gold.mtr_') },
    {
      label: 'revenue',
      value: `${money(total?.revenue)} from ${count(total?.orders)} orders${lastMonth ? `; last full month ${lastMonth.month_start.slice(0, 7)}: ${money(lastMonth.revenue)} (${lastMonth.revenue_yoy_change_pct === null ? 'no full month a year before' : `${lastMonth.revenue_yoy_change_pct >= 0 ? '+' : ''}${pct(lastMonth.revenue_yoy_change_pct)} on a year before`})` : ''}`,
    },
    {
      label: 'products',
      value: products.length ? `the top ${count(tenth)} of ${count(products.length)} products take ${pct(products[tenth - 1]?.cumulative_share)} of revenue` : 'no products yet',
    },
    {
      label: 'win rate',
      value: pipeline ? `${pct(pipeline.win_rate)} (${count(pipeline.won_deals)} won, ${count(pipeline.lost_deals)} lost); average won deal ${money(pipeline.avg_won_deal_size)}, median sales cycle ${pipeline.median_sales_cycle_days ?? '-'} days` : '-',
    },
    {
      label: 'first response',
      value: support.length
        ? `median hours in ${support[0]!.month_start.slice(0, 7)}: ${support.map((s) => `${s.channel} ${s.first_response_hours_median === null ? '-' : s.first_response_hours_median.toFixed(1)} h (CSAT ${s.csat_mean === null ? '-' : s.csat_mean.toFixed(1)})`).join(', ')}`
        : '-',
    },
  ];
}
