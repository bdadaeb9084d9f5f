/**
 * The customer analytics block of the run summaries (`npm start`, `npm run upload`): what the
 * marts say, read from them, as of their as-of date.
 */
import type { Settings } from '../../core/settings.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import type { Headline } from '../domain.js';
import { CAMPAIGNS, SEGMENTS } from './models.js';

const n = (v: number | null | undefined) => Math.round(Number(v ?? 0)).toLocaleString('en-US');
const money = (v: number | string | null | undefined) => Number(v ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export async function customerHeadlines(session: SqlSession, settings: Settings): Promise<Headline[]> {
  const [asOf] = await session.query<{ as_of_date: string; as_of_source: string; first_transaction_date: string; last_transaction_date: string }>(
    `SELECT as_of_date, as_of_source, first_transaction_date, last_transaction_date FROM silver.customer_as_of`,
  );
  if (!asOf) return [{ label: 'customers', value: 'no transactions yet (npm run upload -- transactions <file>, or customers / sales)' }];
  const [revenue] = await session.query<{ revenue: string | null; orders: number | null }>(
    `SELECT CAST(SUM(revenue) AS VARCHAR(40)) AS revenue, SUM(orders) AS orders FROM gold.monthly_metrics`,
  );
  const [buyers] = await session.query<{ customers: number; one_time: number | null }>(
    `SELECT COUNT(*) AS customers, SUM(CASE WHEN purchases = 1 THEN 1 ELSE 0 END) AS one_time FROM gold.metric_customer_ltv`,
  );
  const [known] = await session.query<{ customers: number }>(`SELECT COUNT(*) AS customers FROM gold.dim_customer WHERE is_current = 1`);
  const segments = await session.query<{ segment: string; customers: number }>(`SELECT segment, COUNT(*) AS customers FROM gold.customer_segments GROUP BY segment`);
  const [risk] = await session.query<{ customers: number; value: string | null }>(
    `SELECT COUNT(*) AS customers, CAST(SUM(l.lifetime_value) AS VARCHAR(40)) AS value
     FROM gold.churn_predictions p JOIN gold.metric_customer_ltv l ON l.customer_id = p.customer_id
     WHERE p.churn_risk_score >= @threshold`,
    { threshold: settings.CUSTOMER_HIGH_CHURN_SCORE },
  );
  const campaigns = await session.query<{ campaign: string; customers: number; value: string | null }>(
    `SELECT campaign, COUNT(*) AS customers, CAST(SUM(estimated_value) AS VARCHAR(40)) AS value FROM gold.campaign_targets GROUP BY campaign`,
  );
  const [model] = await session.query<{ method: string; holdout_auc: string | null; base_rate: string | null; holdout_rows: number; note: string }>(
    `SELECT method, CAST(holdout_auc AS VARCHAR(20)) AS holdout_auc, CAST(base_rate AS VARCHAR(20)) AS base_rate, holdout_rows, note FROM gold.churn_model WHERE term IN ('intercept', 'recency_weight')`,
  );
  const bySegment = new Map(segments.map((s) => [s.segment, s.customers]));
  const byCampaign = new Map(campaigns.map((c) => [c.campaign, c]));
  const oneTimePct = buyers?.customers ? (100 * Number(buyers.one_time ?? 0)) / buyers.customers : 0;
  return [
    {
      label: 'as of',
      value: `${asOf.as_of_date} (${asOf.as_of_source === 'data' ? 'the last transaction date' : 'ANALYTICS_AS_OF_DATE'}; data ${asOf.first_transaction_date} … ${asOf.last_transaction_date})`,
    },
    { label: 'revenue', value: `${money(revenue?.revenue)} from ${n(revenue?.orders)} purchases (approved, net of refunds)` },
    { label: 'customers', value: `${n(buyers?.customers)} who bought, of ${n(known?.customers)} known; one-time buyers ${oneTimePct.toFixed(1)} %` },
    { label: 'segments', value: SEGMENTS.map((s) => `${s} ${n(bySegment.get(s))}`).join(', ') },
    { label: 'churn risk', value: `${n(risk?.customers)} customers who bought with a score of ${settings.CUSTOMER_HIGH_CHURN_SCORE} or more, lifetime value ${money(risk?.value)}` },
    {
      label: 'churn model',
      value: model
        ? model.method === 'logistic_regression'
          ? `logistic regression, holdout AUC ${Number(model.holdout_auc).toFixed(3)} on ${n(model.holdout_rows)} customers (base rate ${(100 * Number(model.base_rate)).toFixed(1)} %)`
          : `heuristic: ${model.note}`
        : '-',
    },
    { label: 'campaigns', value: CAMPAIGNS.map((c) => `${c} ${n(byCampaign.get(c)?.customers)} (${money(byCampaign.get(c)?.value)})`).join(', ') },
  ];
}
