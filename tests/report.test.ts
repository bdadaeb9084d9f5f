/**
 * The HTML report without a browser (tests/reportBrowser.test.ts opens it in one): its figures
 * against the hand-computed fixture and the marts on every engine, hostile names as text, pages
 * left out without data, long tables summarised, the Azure path (written after a successful
 * transform, served with its Content-Security-Policy, a failure that never fails the run), the
 * T-SQL grammar over every statement it sends, and `npm run report` as a user runs it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../functions/core/settings.js';
import { defineDomain } from '../functions/domains/domain.js';
import { DOMAINS } from '../functions/domains/registry.js';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { cleanSvg, renderChart } from '../functions/report/charts.js';
import { formatChange, formatValue } from '../functions/report/html.js';
import { fmt, headlinePeriod, partialSegment, type ReportPage } from '../functions/report/page.js';
import { LATEST_REPORT_BLOB, serveLatestReport } from '../functions/report/publish.js';
import { buildReport, reportPages } from '../functions/report/report.js';
import { container } from '../functions/storage/blobStore.js';
import { runTransform } from '../functions/transform/transform.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, putUsageBronzeFile, resetStorage, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { uploadCrm } from './support/crm.js';
import { buildFixtureWarehouse, FIXTURE_AT_RISK, FIXTURE_CRM_EXPORTS, FIXTURE_CRM_FIGURES, FIXTURE_CUSTOMER_FIGURES, FIXTURE_FIGURES, HOSTILE_CUSTOMER, HOSTILE_PRODUCT, IMG_NAME, SCRIPT_NAME } from './support/reportFixture.js';
import { describeSyntaxError, tsqlSyntaxErrors } from './support/tsqlGrammar.js';
import { recordingWarehouse, type SentStatement } from './support/warehouseWrappers.js';

const testStorage = useTestStorage();

/** A figure's shown value and change line, read from the HTML. */
function figure(html: string, id: string): { value: string; change?: string } {
  const block = new RegExp(`data-figure="${id.replace(/\./g, '\\.')}">([\\s\\S]*?)\\n</div>`).exec(html)?.[1];
  if (!block) throw new Error(`no figure ${id}`);
  return { value: /<div class="value">([^<]*)<\/div>/.exec(block)![1]!, change: /<div class="change[^"]*">([^<]*)<\/div>/.exec(block)?.[1] };
}

/** The cells of one column of a table (by its `data-table` slug), in row order. */
function column(html: string, table: string, key: string): string[] {
  const t = new RegExp(`data-table="${table}">([\\s\\S]*?)</table>`).exec(html)?.[1];
  if (!t) throw new Error(`no table ${table}`);
  return [...t.matchAll(new RegExp(`<td data-col="${key}"[^>]*>([^<]*)</td>`, 'g'))].map((m) => m[1]!);
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const count = (v: number) => v.toLocaleString('en-US');

describe.each(ENGINES)('the report on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('shows the hand-computed figures, equal to the marts, and hostile names as text', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    expect((await buildFixtureWarehouse(ctx, storage)).status).toBe('done');
    const report = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(report.failed).toEqual([]);
    expect(report.pages.map((p) => p.id)).toEqual(['executive-summary', 'revenue-and-products', 'customers', 'support-and-satisfaction', 'sales-pipeline', 'company-activity', 'pipeline-health']);
    expect(report.asOf).toBe('2024-01-14');
    const html = report.html;

    // the figures: the hand-computed values, and the same read from the view by a query of the test's own
    const [marts] = await wh.query<{ active_users: number; events_7d: number; active_companies: number; at_risk: number }>(
      `SELECT SUM(active_users) AS active_users, SUM(events_7d) AS events_7d,
              SUM(CASE WHEN active_users_7d > 0 THEN 1 ELSE 0 END) AS active_companies,
              SUM(CASE WHEN is_churn_risk = 1 THEN 1 ELSE 0 END) AS at_risk
       FROM reporting.company_activity_daily WHERE activity_date = '2024-01-14'`,
    );
    const [listed] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM reporting.companies_at_churn_risk`);
    expect(Number(marts!.active_users)).toBe(FIXTURE_FIGURES['company_activity.active_users'].value);
    expect(Number(marts!.events_7d)).toBe(FIXTURE_FIGURES['company_activity.events_7d'].value);
    expect(Number(marts!.active_companies)).toBe(FIXTURE_FIGURES['company_activity.active_companies'].value);
    expect(Number(marts!.at_risk)).toBe(FIXTURE_FIGURES['company_activity.companies_at_risk'].value);
    expect(Number(listed!.n)).toBe(FIXTURE_FIGURES['company_activity.companies_at_risk'].value);
    for (const [id, f] of Object.entries(FIXTURE_FIGURES)) expect(figure(html, id).value, id).toBe(count(f.value));
    // changes against 7 days earlier: 3 → 3, 360 → 210 (−150, −41.7 %), 3 → 2 (−1, −33.3 %), 1 → 2 (+1, +100 %)
    expect(figure(html, 'company_activity.active_users').change).toBe('= no change vs 7 days earlier (2024-01-07)');
    expect(figure(html, 'company_activity.events_7d').change).toBe('▼ 150 (−41.7 %) vs 7 days earlier (2024-01-07) · worse');
    expect(figure(html, 'company_activity.active_companies').change).toBe('▼ 1 (−33.3 %) vs 7 days earlier (2024-01-07) · worse');
    expect(figure(html, 'company_activity.companies_at_risk').change).toBe('▲ 1 (+100.0 %) vs 7 days earlier (2024-01-07) · worse');

    // the churn list: never contacted first, names as text
    expect(column(html, 'companies-at-churn-risk-on-2024-01-14', 'company_name').map(unescape)).toEqual(FIXTURE_AT_RISK);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain(IMG_NAME); // only escaped
    expect(html).not.toContain(SCRIPT_NAME);

    // the table beside the first chart: the latest day first, from the view
    expect(column(html, 'active-users-and-events-latest-days', 'activity_date')[0]).toBe('2024-01-14');
    expect(column(html, 'active-users-and-events-latest-days', 'events')[0]).toBe('30'); // A 20 + D 10
    // as of and the data range on every page
    expect(html).toMatch(/<section class="page" id="company-activity"[^>]*>\s*<h2[^>]*>Company activity<\/h2>\s*<p class="asof" data-asof="2024-01-14">As of <strong>2024-01-14<\/strong> · data from <span data-range>2024-01-01 to 2024-01-14<\/span>/);
    expect([...html.matchAll(/<p class="asof" data-asof=/g)]).toHaveLength(7);
    // the insight rows of the executive summary
    expect(html).toContain('2 companies are at churn risk on 2024-01-14: no active users lately and no recent CRM contact (1 of them never contacted).');
    expect(html).toContain('2 of 4 companies (50.0 %)');

    // pipeline health: the runs and quarantine counts as recorded
    const [runs] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.pipeline_runs`);
    expect(figure(html, 'pipeline.runs').value).toBe(count(Number(runs!.n)));
    const sources = column(html, 'quarantine-per-source', 'source');
    expect(sources).toEqual(['crm_accounts', 'crm_company_daily', 'crm_contacts', 'crm_deals', 'crm_order_lines', 'crm_products', 'crm_tickets', 'customers', 'transactions']);
    expect(column(html, 'quarantine-per-source', 'rows_accepted')[sources.indexOf('crm_company_daily')]).toBe('4');
  });

  it('is written to the reports container after a successful run, and served with its policy', async () => {
    expect((await serveLatestReport(storage.storage)).status).toBe(404);
    const ctx = testContext({ storage, warehouse: wh });
    const outcome = await buildFixtureWarehouse(ctx, storage);
    expect(outcome.status).toBe('done');
    const runId = outcome.status === 'done' ? outcome.passes.at(-1)!.runId : '';
    const [step] = await wh.query<{ status: string; rows_out: number; detail: string; error: string | null }>(
      `SELECT status, rows_out, detail, error FROM ops.run_steps WHERE run_id = @id AND step_name = 'report'`,
      { id: runId },
    );
    expect(step).toMatchObject({ status: 'succeeded', rows_out: 7, error: null });
    expect(JSON.parse(step!.detail)).toMatchObject({
      blob: `reports/${LATEST_REPORT_BLOB}`,
      pages: ['executive-summary', 'revenue-and-products', 'customers', 'support-and-satisfaction', 'sales-pipeline', 'company-activity', 'pipeline-health'],
    });

    const served = await serveLatestReport(storage.storage);
    expect(served.status).toBe(200);
    expect(served.headers).toMatchObject({ 'Content-Type': 'text/html; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    // the policy: nothing loads or runs; the one style block is allowed by its hash
    const style = /<style>([\s\S]*?)<\/style>/.exec(served.body)![1]!;
    const hash = `'sha256-${createHash('sha256').update(style, 'utf8').digest('base64')}'`;
    expect(served.headers['Content-Security-Policy']).toBe(`default-src 'none'; style-src ${hash}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
    expect(served.body).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src ${hash.replace(/'/g, '&#39;')}; base-uri &#39;none&#39;; form-action &#39;none&#39;">`);
    // the same document the report builds from this warehouse now, but for the run it was written after (pipeline health)
    expect(served.body).toContain('data-figure="company_activity.active_users"');
  });

  it('never fails the run when the report cannot be written', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    const reports = container(storage.storage, 'reports');
    await reports.delete();
    try {
      const outcome = await buildFixtureWarehouse(ctx, storage);
      expect(outcome.status).toBe('done');
      const runId = outcome.status === 'done' ? outcome.passes.at(-1)!.runId : '';
      const [run] = await wh.query<{ status: string }>(`SELECT status FROM ops.pipeline_runs WHERE run_id = @id`, { id: runId });
      expect(run!.status).toBe('succeeded');
      const [step] = await wh.query<{ status: string; error: string }>(`SELECT status, error FROM ops.run_steps WHERE run_id = @id AND step_name = 'report'`, { id: runId });
      expect(step!.status).toBe('failed');
      expect(step!.error).toMatch(/^the report could not be written: .*container/i);
      expect(ctx.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'step report failed' }));
      expect(await wh.query(`SELECT company_id FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-14' ORDER BY company_id`)).toHaveLength(4);
    } finally {
      await reports.createIfNotExists();
    }
  });

  it('shows the CRM warehouse\'s hand-computed figures, equal to its marts', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    expect((await buildFixtureWarehouse(ctx, storage)).status).toBe('done');
    const report = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(report.failed).toEqual([]);
    const html = report.html;
    const section = (id: string) => new RegExp(`<section class="page" id="${id}"[\\s\\S]*?</section>`).exec(html)![0];

    // every figure as worked out by hand in the fixture, with its change against the previous period
    for (const [id, f] of Object.entries(FIXTURE_CRM_FIGURES)) {
      const shown = figure(html, id);
      expect(shown.value, id).toBe(f.value);
      if ('change' in f) expect(shown.change, id).toBe(f.change);
    }

    // … and as the marts have them, read by queries of the test's own
    const [month] = await wh.query<{ revenue: number; orders: number; aov: number; customers: number; revenue_yoy_change_pct: number }>(
      `SELECT revenue, orders, aov, customers, revenue_yoy_change_pct FROM gold.mtr_revenue_by_month WHERE month_start = '2023-12-01'`,
    );
    expect(month).toEqual({ revenue: 600, orders: 2, aov: 300, customers: 2, revenue_yoy_change_pct: 5 });
    expect(figure(html, 'crm.revenue_month').value).toBe(count(month!.revenue));
    expect(figure(html, 'crm.orders_month').value).toBe(count(month!.orders));
    expect(figure(html, 'crm.aov_month').value).toBe(formatValue(month!.aov, fmt.number(2)));
    expect(html).toContain('in the reporting currency; +500.0 % on 2022-12');
    const [week] = await wh.query<{ median_first_response_hours: number; median_resolution_hours: number; csat_positive_share: number; sla_violators: number; revenue_at_risk: number }>(
      `SELECT median_first_response_hours, median_resolution_hours, csat_positive_share, sla_violators, revenue_at_risk FROM gold.mtr_weekly_ops WHERE week_start = '2024-01-08'`,
    );
    expect(week).toEqual({ median_first_response_hours: 1, median_resolution_hours: 4, csat_positive_share: 1, sla_violators: 0, revenue_at_risk: 0 });
    expect(figure(html, 'crm.median_first_response_week').value).toBe(formatValue(week!.median_first_response_hours, fmt.number(1, 'h')));
    expect(figure(html, 'crm.median_resolution_week').value).toBe(formatValue(week!.median_resolution_hours, fmt.number(1, 'h')));
    expect(figure(html, 'crm.csat_positive_week').value).toBe(formatValue(week!.csat_positive_share, fmt.percent(1)));
    const [pipe] = await wh.query<{ win_rate: number; won_deals: number; lost_deals: number; median_sales_cycle_days: number; avg_won_deal_size: number }>(
      `SELECT win_rate, won_deals, lost_deals, median_sales_cycle_days, avg_won_deal_size FROM gold.mtr_sales_pipeline WHERE stage = 'closed_won'`,
    );
    expect(pipe).toEqual({ win_rate: 0.6, won_deals: 3, lost_deals: 2, median_sales_cycle_days: 10, avg_won_deal_size: 1133.33 });
    expect(figure(html, 'crm.win_rate').value).toBe(formatValue(pipe!.win_rate, fmt.percent(1)));
    const [weighted] = await wh.query<{ weighted: number; pipeline: number }>(`SELECT SUM(weighted_value) AS weighted, SUM(pipeline_value) AS pipeline FROM gold.mtr_sales_pipeline`);
    expect(weighted).toEqual({ weighted: 1075, pipeline: 2300 });
    expect(figure(html, 'crm.weighted_pipeline').value).toBe(count(weighted!.weighted));
    // the win rate per month of closing: the mart's definition, its months adding up to the mart's deals
    const outcomes = await wh.query<{ month_start: string; won_deals: number; lost_deals: number; win_rate: number; is_partial_period: boolean }>(
      `SELECT month_start, won_deals, lost_deals, win_rate, is_partial_period FROM reporting.crm_deal_outcomes_by_month ORDER BY month_start`,
    );
    expect(outcomes).toEqual([
      { month_start: '2023-11-01', won_deals: 1, lost_deals: 1, win_rate: 0.5, is_partial_period: false },
      { month_start: '2023-12-01', won_deals: 2, lost_deals: 1, win_rate: 0.6667, is_partial_period: false },
    ]);
    expect(outcomes.reduce((n, m) => n + m.won_deals, 0)).toBe(pipe!.won_deals);
    expect(outcomes.reduce((n, m) => n + m.lost_deals, 0)).toBe(pipe!.lost_deals);

    // the per-channel tables of the latest complete month, as the mart has them
    const channels = await wh.query<{ channel: string; first_response_hours_median: number; first_response_hours_p75: number; first_response_hours_p95: number; csat_answers: number; csat_positive_share: number; sla_compliance: number }>(
      `SELECT channel, first_response_hours_median, first_response_hours_p75, first_response_hours_p95, csat_answers, csat_positive_share, sla_compliance
       FROM reporting.crm_support_performance WHERE month_start = '2023-12-01' ORDER BY channel`,
    );
    expect(channels).toEqual([
      { channel: 'chat', first_response_hours_median: 0.5, first_response_hours_p75: 0.5, first_response_hours_p95: 0.5, csat_answers: 1, csat_positive_share: 1, sla_compliance: 1 },
      { channel: 'email', first_response_hours_median: 2, first_response_hours_p75: 2.5, first_response_hours_p95: 2.9, csat_answers: 3, csat_positive_share: 0.6667, sla_compliance: 1 },
      { channel: 'social', first_response_hours_median: 16, first_response_hours_p75: 18, first_response_hours_p95: 19.6, csat_answers: 2, csat_positive_share: 0, sla_compliance: 0 },
    ]);
    const hours = (v: number) => formatValue(v, fmt.number(1, 'h'));
    expect(column(html, 'first-response-hours-by-channel-2023-12', 'channel')).toEqual(channels.map((c) => c.channel));
    expect(column(html, 'first-response-hours-by-channel-2023-12', 'first_response_hours_median')).toEqual(channels.map((c) => hours(c.first_response_hours_median)));
    expect(column(html, 'first-response-hours-by-channel-2023-12', 'first_response_hours_p75')).toEqual(channels.map((c) => hours(c.first_response_hours_p75)));
    expect(column(html, 'first-response-hours-by-channel-2023-12', 'first_response_hours_p95')).toEqual(['0.5 h', '2.9 h', '19.6 h']);
    expect(column(html, 'resolution-hours-by-channel-2023-12', 'resolution_hours_median')).toEqual(['2.0 h', '20.0 h', '124.0 h']);
    expect(column(html, 'resolution-hours-by-channel-2023-12', 'resolution_hours_p95')).toEqual(['2.0 h', '29.0 h', '192.4 h']);
    expect(column(html, 'satisfaction-by-channel-2023-12', 'csat_answers')).toEqual(channels.map((c) => count(c.csat_answers)));
    expect(column(html, 'satisfaction-by-channel-2023-12', 'csat_positive_share')).toEqual(['100.0 %', '66.7 %', '0.0 %']);
    expect(column(html, 'sla-by-channel-2023-12', 'sla_compliance')).toEqual(['100.0 %', '100.0 %', '0.0 %']);

    // products and categories (Pareto), the hostile product name as text
    expect(column(html, 'products-by-revenue', 'product_name').map(unescape)).toEqual(['Widget', HOSTILE_PRODUCT, 'Gadget', 'Setup']);
    expect(column(html, 'products-by-revenue', 'revenue_share')).toEqual(['55.6 %', '22.2 %', '11.1 %', '11.1 %']);
    expect(column(html, 'products-by-revenue', 'cumulative_share')).toEqual(['55.6 %', '77.8 %', '88.9 %', '100.0 %']);
    expect(column(html, 'categories-by-revenue', 'category')).toEqual(['Hardware', 'Software', 'Services']);
    expect(column(html, 'categories-by-revenue', 'products')).toEqual(['2', '1', '1']);
    expect(column(html, 'categories-by-revenue', 'category_cumulative_share')).toEqual(['66.7 %', '88.9 %', '100.0 %']);
    expect(html).not.toContain(HOSTILE_PRODUCT);
    expect(html).not.toMatch(/<img/i);

    // revenue by month: 14 months, the latest first beside the chart, the partial one marked
    expect(column(html, 'revenue-by-month-latest-first', 'month').slice(0, 3)).toEqual(['2024-01 (partial)', '2023-12', '2023-11']);
    expect(column(html, 'revenue-by-month-latest-first', 'revenue').slice(0, 3)).toEqual(['100', '600', '100']);
    expect(html).toContain('… and 2 more months (12 of 14 shown)');
    expect(column(html, 'revenue-by-year', 'label')).toEqual(['2024 (partial)', '2023', '2022 (partial)']);
    // the funnel, and the deals closed per month
    expect(column(html, 'funnel-by-stage', 'deals_entered')).toEqual(['6', '3', '3', '0', '3', '2']);
    expect(column(html, 'funnel-by-stage', 'conversion_rate')).toEqual(['83.3 %', '33.3 %', '66.7 %', '—', '—', '—']);
    expect(column(html, 'deals-closed-per-month-latest-first', 'win_rate')).toEqual(['66.7 %', '50.0 %']);

    // each page's as-of date and range from the data
    const asOf = (id: string) => /data-asof="([^"]*)">As of <strong>[^<]*<\/strong> · data from <span data-range>([^<]*)<\/span>/.exec(section(id))!.slice(1);
    expect(asOf('revenue-and-products')).toEqual(['2024-01-14', '2022-12-01 to 2024-01-14']);
    expect(asOf('support-and-satisfaction')).toEqual(['2024-01-14', '2023-11-27 to 2024-01-14']);
    expect(asOf('sales-pipeline')).toEqual(['2024-01-14', '2023-11-01 to 2024-01-14']);

    // the executive summary: a group per CRM page, in tab order before company activity, and the insights
    const summary = section('executive-summary');
    expect([...summary.matchAll(/data-domain="([^"]*)"/g)].map((m) => m[1])).toEqual(['revenue-and-products', 'customers', 'support-and-satisfaction', 'sales-pipeline', 'company-activity']);
    for (const id of ['crm.revenue_month', 'crm.orders_month', 'crm.aov_month', 'crm.median_first_response_week', 'crm.csat_positive_week', 'crm.sla_violators_week', 'crm.win_rate_month', 'crm.weighted_pipeline', 'crm.median_sales_cycle']) {
      expect(summary, id).toContain(`data-figure="${id}"`);
    }
    expect(summary).toContain('The top 10 % of products bring 55.6 % of revenue.');
    expect(summary).toContain('1 of 4 products; 3 make 80 %');
    expect(summary).toContain('Revenue in 2023-12 is 500.0 % above the same month a year before.');
    expect(summary).toContain('Social answers slowest: a median first response of 16.0 h in 2023-12, against 2.0 h for email, the next slowest.');
    expect(summary).toContain('Qualification converts least: 33.3 % of the deals that entered it went on to a later stage.');
    expect(summary).toContain('1 of 3 deals; win rate 60.0 % over all closed deals');
  });

  it('leaves out the CRM pages while the CRM warehouse has no data, and each page until its marts have some', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    expect((await buildFixtureWarehouse(ctx, storage, { crmWarehouse: false, customers: false })).status).toBe('done');
    const without = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(without.pages.map((p) => p.id)).toEqual(['executive-summary', 'company-activity', 'pipeline-health']);
    expect(without.withoutData.map((p) => p.id)).toEqual(['revenue-and-products', 'customers', 'support-and-satisfaction', 'sales-pipeline']);
    expect(without.html).not.toContain('data-figure="crm.');

    // tickets only: the support page and its summary figures; no revenue, no deals yet
    await uploadCrm(ctx, storage, 'crm_tickets', 'tickets.csv', [...FIXTURE_CRM_EXPORTS.crm_tickets]);
    await runTransform(ctx);
    const tickets = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(tickets.failed).toEqual([]);
    expect(tickets.pages.map((p) => p.id)).toEqual(['executive-summary', 'support-and-satisfaction', 'company-activity', 'pipeline-health']);
    expect(figure(tickets.html, 'crm.median_first_response_week').value).toBe('1.0 h');
    expect(tickets.html).not.toContain('data-figure="crm.revenue_month"');
  });

  it('shows the customer marts\' hand-computed figures, equal to the marts', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    expect((await buildFixtureWarehouse(ctx, storage)).status).toBe('done');
    const report = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(report.failed).toEqual([]);
    const html = report.html;
    const page = new RegExp(`<section class="page" id="customers"[\\s\\S]*?</section>`).exec(html)![0];
    const summary = new RegExp(`<section class="page" id="executive-summary"[\\s\\S]*?</section>`).exec(html)![0];

    // as worked out by hand in the fixture, on the page and in the summary
    for (const [id, f] of Object.entries(FIXTURE_CUSTOMER_FIGURES)) {
      const shown = figure(page, id);
      expect(shown.value, id).toBe(f.value);
      if ('change' in f) expect(shown.change, id).toBe(f.change);
      if (id !== 'customers.aov_month') expect(figure(summary, id), id).toEqual(shown);
    }
    expect(page).toMatch(/<p class="asof" data-asof="2024-01-14">As of <strong>2024-01-14<\/strong> · data from <span data-range>2022-12-01 to 2024-01-14<\/span>/);

    // … and as the marts have them, read by queries of the test's own
    const [month] = await wh.query<{ revenue: number; customers: number; average_order_value: number }>(`SELECT revenue, customers, average_order_value FROM gold.monthly_metrics WHERE month_start = '2023-12-01'`);
    expect(month).toEqual({ revenue: 280, customers: 2, average_order_value: 140 });
    expect(figure(page, 'customers.revenue_month').value).toBe(count(month!.revenue));
    expect(figure(page, 'customers.aov_month').value).toBe(formatValue(month!.average_order_value, fmt.number(2)));
    const [base] = await wh.query<{ customers: number; one_time: number }>(`SELECT COUNT(*) AS customers, SUM(CASE WHEN purchases = 1 THEN 1 ELSE 0 END) AS one_time FROM gold.metric_customer_ltv`);
    expect(figure(page, 'customers.customers').value).toBe(count(Number(base!.customers)));
    expect(figure(page, 'customers.one_time_buyers').value).toBe(formatValue((100 * Number(base!.one_time)) / Number(base!.customers), fmt.number(1, '%')));
    const [risk] = await wh.query<{ n: number; value: number }>(
      `SELECT COUNT(*) AS n, SUM(l.lifetime_value) AS value FROM gold.churn_predictions p JOIN gold.metric_customer_ltv l ON l.customer_id = p.customer_id WHERE p.churn_risk_score >= 70`,
    );
    expect(figure(page, 'customers.high_churn_risk').value).toBe(count(Number(risk!.n)));
    expect(figure(page, 'customers.high_churn_risk_value').value).toBe(count(Number(risk!.value)));
    const scores = await wh.query<{ customer_id: string; churn_risk_score: number }>(`SELECT customer_id, churn_risk_score FROM gold.churn_predictions ORDER BY customer_id`);
    expect(scores.map((r) => [r.customer_id, Number(r.churn_risk_score)])).toEqual([['P', 23], ['Q', 38], ['R', 27], ['S', 100]]);

    // segments, score and LTV bands, cohorts, campaigns: the tables beside the charts
    expect(column(page, 'segments', 'segment')).toEqual(['Lost', 'New', 'Regular']);
    expect(column(page, 'segments', 'customers')).toEqual(['1', '2', '1']);
    expect(column(page, 'lifetime-value-by-segment', 'lifetime_value')).toEqual(['400', '500', '350']);
    expect(column(page, 'segments', 'share_pct')).toEqual(['25.0 %', '50.0 %', '25.0 %']);
    const segs = await wh.query<{ segment: string; n: number }>(`SELECT segment, COUNT(*) AS n FROM gold.customer_segments GROUP BY segment ORDER BY segment`);
    expect(segs.map((r) => [r.segment, Number(r.n)])).toEqual([['Lost', 1], ['New', 2], ['Regular', 1]]);
    expect(column(page, 'customers-by-churn-risk-score', 'customers')).toEqual(['0', '0', '2', '1', '0', '0', '0', '0', '0', '1']);
    expect(column(page, 'customers-by-lifetime-value-band', 'customers')).toEqual(['0', '0', '1', '3']);
    expect(column(page, 'retention-by-cohort-latest-first', 'cohort')).toEqual(['2023-12', '2023-11', '2023-06', '2022-12']);
    expect(column(page, 'retention-by-cohort-latest-first', 'm6')).toEqual(['—', '—', '100.0 %', '0.0 %']);
    const targets = await wh.query<{ customer_id: string; campaign: string; priority: string; estimated_value: number }>(
      `SELECT customer_id, campaign, priority, estimated_value FROM gold.campaign_targets ORDER BY estimated_value DESC, customer_id`,
    );
    expect(targets.map((t) => [t.customer_id, t.campaign, t.priority])).toEqual([['S', 'Retention', 'Medium'], ['P', 'Cross-Sell', 'Medium']]);
    expect(column(page, 'campaign-targets-highest-priority-and-value-first', 'customer_id')).toEqual(['S', 'P']);
    expect(column(page, 'campaign-targets-highest-priority-and-value-first', 'estimated_value')).toEqual(targets.map((t) => formatValue(t.estimated_value, fmt.number(2))));
    expect(column(page, 'campaign-targets-by-type-and-priority', 'campaign')).toEqual(['Retention', 'Cross-Sell']);
    expect(page).toContain('&lt;img src=x onerror=alert(3)&gt; Sato');
    expect(page).not.toContain(HOSTILE_CUSTOMER);
    // the churn model's quality: none yet, the heuristic scores (and the note says why)
    expect(figure(page, 'customers.churn_auc').value).toBe('—');
    expect(page).toContain('too little to learn from');

    // the business_insights rows in the executive summary, High priority first
    const insights = await wh.query<{ detail: string }>(`SELECT detail FROM gold.business_insights`);
    for (const i of insights) expect(summary).toContain(i.detail);
    expect(summary).toContain('Revenue was 280.00 in December 2023 against 400.00 in December 2022 (-30.00 %).');
    expect(summary).toContain('2 of 4 customers (50.00 %) have bought exactly once.');
  });

  it('leaves out the Customers page and its summary while there are no transactions', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    expect((await buildFixtureWarehouse(ctx, storage, { customers: false })).status).toBe('done');
    const without = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(without.failed).toEqual([]);
    expect(without.pages.map((p) => p.id)).not.toContain('customers');
    expect(without.withoutData.map((p) => p.id)).toEqual(['customers']);
    expect(without.html).not.toContain('data-figure="customers.');
    expect(without.html).not.toContain('href="#customers"');
  });

  it('leaves out the pages of domains without data, and says so when there is none', async () => {
    const settings = loadSettings({});
    const empty = await buildReport({ warehouse: wh, settings });
    expect(empty.pages).toEqual([]);
    expect(empty.withoutData.map((p) => p.id)).toEqual(reportPages().map((p) => p.id));
    expect(empty.html).toContain('No data yet: run the pipeline first');
    expect(empty.html).not.toContain('<section');

    // an upload with no usage and no transform yet: runs, but no gold
    const ctx = testContext({ storage, warehouse: wh });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', 'company_id,name,country,industry_tag,last_contact_at,snapshot_date\nA,Alpha,DE,saas,,2024-01-01\n');
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    const runsOnly = await buildReport({ warehouse: wh, settings });
    expect(runsOnly.pages.map((p) => p.id)).toEqual(['pipeline-health']);
    expect(runsOnly.html).not.toContain('id="company-activity"');
  });

  it('summarises a long list: the first 20, then "and 5 more"', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    // 25 companies without usage, never contacted: all at churn risk on Jan 1 (one active company makes the day)
    const ids = Array.from({ length: 25 }, (_, i) => `K${String(i + 1).padStart(2, '0')}`);
    const csv = ['company_id,name,country,industry_tag,last_contact_at,snapshot_date', ...ids.map((id) => `${id},Company ${id},DE,saas,,2024-01-01`)].join('\n');
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', csv);
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    await putUsageBronzeFile(storage.storage, '2024-01-01', [{ company_id: 'ACTIVE', active_users: 1, events: 1 }]);
    await runTransform(ctx);
    const { html } = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(column(html, 'companies-at-churn-risk-on-2024-01-01', 'company_id')).toEqual(ids.slice(0, 20));
    expect(html).toContain('… and 5 more companies (20 of 25 shown)');
  });

  it('sends only statements the T-SQL grammar accepts', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await buildFixtureWarehouse(ctx, storage);
    const sent: SentStatement[] = [];
    const report = await buildReport({ warehouse: recordingWarehouse(wh, sent), settings: ctx.settings });
    expect(report.failed).toEqual([]);
    expect(sent.length).toBeGreaterThan(10);
    const failures = sent.flatMap((s) => {
      const errors = tsqlSyntaxErrors(s.sql);
      return errors.length ? [describeSyntaxError(s.sql, errors[0]!)] : [];
    });
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});

describe('the report framework', () => {
  const settings = loadSettings({});

  it('shows a page that fails with its error, and renders the others', async () => {
    const pages: ReportPage[] = [
      { id: 'broken', title: 'Broken', order: 1, build: () => Promise.reject(new Error('<b>boom</b>')) },
      {
        id: 'fine',
        title: 'Fine',
        order: 2,
        build: () => Promise.resolve({ asOf: '2024-01-02', range: { from: '2024-01-01', to: '2024-01-02' }, blocks: [{ kind: 'note', text: 'all well' }] }),
      },
    ];
    const report = await buildReport({ warehouse: undefined as unknown as Warehouse, settings }, pages);
    expect(report.failed).toEqual([{ id: 'broken', title: 'Broken', error: '<b>boom</b>' }]);
    expect(report.html).toContain('This page could not be built: &lt;b&gt;boom&lt;/b&gt;');
    expect(report.html).toContain('all well');
    expect(report.pages.map((p) => p.id)).toEqual(['fine']);
  });

  it('takes each domain\'s pages in tab order, and refuses a repeated or malformed id', () => {
    // the executive summary first and pipeline health last; every other domain's pages between, by `order`
    const all = reportPages();
    expect(all[0]!.id).toBe('executive-summary');
    expect(all.at(-1)!.id).toBe('pipeline-health');
    expect(all.map((p) => p.id)).toEqual(['executive-summary', 'revenue-and-products', 'customers', 'support-and-satisfaction', 'sales-pipeline', 'company-activity', 'pipeline-health']);
    expect(all.map((p) => p.order)).toEqual([...all.map((p) => p.order)].sort((a, b) => a - b));
    const extra = (id: string) =>
      defineDomain({ name: 'extra', title: 'Extra', description: 'x', models: [], report: { pages: [{ id, title: 'X', order: 35, build: () => Promise.resolve(undefined) }] } });
    const withExtra = reportPages([...DOMAINS, extra('extra-page')]).map((p) => p.id);
    // order 35: between the customer analytics page (30) and the CRM's support page (40), though registered last
    expect(withExtra.indexOf('extra-page')).toBe(withExtra.indexOf('customers') + 1);
    expect(withExtra.indexOf('support-and-satisfaction')).toBe(withExtra.indexOf('extra-page') + 1);
    expect(() => reportPages([...DOMAINS, extra('company-activity')])).toThrow('report page "company-activity" is declared twice');
    expect(() => reportPages([...DOMAINS, extra('Bad Id')])).toThrow('report page "Bad Id": the id must be lower-case words joined by hyphens');
  });

  it('lets a chart SVG neither run nor fetch anything, and keeps it within the policy', () => {
    const svg = (inner: string) => `<svg width="10" height="10" xmlns="http://www.w3.org/2000/svg">${inner}</svg>`;
    expect(() => cleanSvg(svg('<script>alert(1)</script>'), 'c')).toThrow('an element the report does not allow: <script>');
    expect(() => cleanSvg(svg('<image href="https://example.com/x.png"/>'), 'c')).toThrow('an element the report does not allow: <image>');
    expect(() => cleanSvg(svg('<path d="M0 0" onload="alert(1)"/>'), 'c')).toThrow('an event handler attribute');
    expect(() => cleanSvg(svg('<path d="M0 0" fill="url(https://example.com/#p)"/>'), 'c')).toThrow('a url() out of the document');
    expect(() => cleanSvg(svg('<g xlink:href="https://example.com/x"/>'), 'c')).toThrow('a link out of the document');
    // inline styles become presentation attributes, ids get the chart's prefix, the hover styles go
    expect(
      cleanSvg(svg('<text style="font: normal bold 12px sans-serif" class="zr3-cls-0">a</text><clipPath id="zr3-c0"></clipPath><g clip-path="url(#zr3-c0)"></g><style>.zr3-cls-0:hover{cursor:pointer}</style>'), 'p1-c2'),
    ).toBe(
      svg('<text font-style="normal" font-weight="bold" font-size="12px" font-family="sans-serif">a</text><clipPath id="p1-c2-c0"></clipPath><g clip-path="url(#p1-c2-c0)"></g>'),
    );
  });

  it('labels every one of a few long categories, and puts a share\'s second axis on 0 to 100 %', () => {
    const names = ['Support plans', 'Consumables', 'Training', 'Software', 'Cloud', 'Accessories', 'Hardware', 'Professional services'];
    const svg = renderChart({
      kind: 'bar',
      title: 'Categories',
      source: 'reporting.x',
      x: { label: 'Category', categories: names },
      y: { label: 'Share of revenue', unit: '%', format: fmt.percent(0) },
      series: [{ name: 'Share', values: names.map(() => 0.125) }],
      line: { name: 'Running share', values: names.map((_, i) => (i + 1) / 8), axis: { label: 'Running share', unit: '%', format: fmt.percent(0), min: 0, max: 1 } },
    }).text;
    // none thinned out (eight names too long for their band: slanted, each whole)
    for (const n of names) expect(svg).toContain(`>${n}</text>`);
    expect(svg).toContain('>100 %</text>');
    expect(svg).toContain('>Running share (%)</text>');
  });

  it('takes the latest complete period against the one before, and shades a partial last point', () => {
    const rows = [
      { month: '2024-01-01', is_partial_period: true }, // starts mid-month
      { month: '2024-02-01', is_partial_period: false },
      { month: '2024-03-01', is_partial_period: 0 }, // SQL Server's BIT
      { month: '2024-04-01', is_partial_period: 1 }, // to the as-of date
    ];
    const before: Record<string, string> = { '2024-04-01': '2024-03-01', '2024-03-01': '2024-02-01', '2024-02-01': '2024-01-01' };
    const period = (r: typeof rows) => headlinePeriod(r, (x) => x.month, (k) => before[k] ?? '');
    expect(period(rows)).toEqual({ current: rows[2], previous: rows[1] });
    // nothing complete yet: the latest there is; no row for the month before it, so no previous figure
    expect(period([rows[3]!])).toEqual({ current: rows[3], previous: undefined });
    expect(period([])).toBeUndefined();
    expect(partialSegment([{ date: '2024-03-01', partial: false }, { date: '2024-04-01', partial: true }])).toEqual({ partial: { from: '2024-03-01', to: '2024-04-01' } });
    expect(partialSegment([{ date: '2024-03-01', partial: false }])).toEqual({});
  });

  it('formats values and changes in words and symbols, never colour alone', () => {
    expect(formatValue(null, fmt.int)).toBe('—');
    expect(formatValue(1234567, fmt.int)).toBe('1,234,567');
    expect(formatValue(0.256, fmt.percent(1))).toBe('25.6 %');
    expect(formatValue(1234.5, fmt.money('EUR', 2))).toBe('1,234.50 EUR');
    expect(formatValue(new Date('2024-01-02T03:04:05Z'), fmt.datetime)).toBe('2024-01-02 03:04 UTC');
    expect(formatValue('error', fmt.status)).toBe('✗ error');
    expect(formatChange(110, 100, fmt.int, 'up')).toEqual({ text: '▲ 10 (+10.0 %)', tone: 'good' });
    expect(formatChange(110, 100, fmt.int, 'down')).toEqual({ text: '▲ 10 (+10.0 %)', tone: 'bad' });
    expect(formatChange(0.3, 0.25, fmt.percent(1), 'up')).toEqual({ text: '▲ 5.0 pts', tone: 'good' });
    expect(formatChange(5, 0, fmt.int)).toEqual({ text: '▲ 5', tone: 'flat' });
    expect(formatChange(5, null, fmt.int)).toBeUndefined();
  });
});

describe('npm run report', () => {
  const exec = promisify(execFile);
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes the report of the local warehouse to <PIPELINE_LOCAL_DIR>/report/index.html', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'report-cli-'));
    dirs.push(dir);
    await resetStorage(testStorage().storage);
    const wh = await DuckDbWarehouse.open(path.join(dir, 'warehouse.duckdb'), { schema: WAREHOUSE_SCHEMA });
    const ctx = testContext({ storage: testStorage(), warehouse: wh });
    let expected: string;
    try {
      await buildFixtureWarehouse(ctx, testStorage());
      expected = (await buildReport({ warehouse: wh, settings: ctx.settings })).html;
    } finally {
      await wh.close();
    }
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'functions/local/report.ts'], { env: { ...process.env, PIPELINE_LOCAL_DIR: dir }, timeout: 120_000 });
    const file = path.join(dir, 'report', 'index.html');
    expect(stdout).toMatch(/Company activity +as of 2024-01-14, data 2024-01-01 … 2024-01-14/);
    expect(stdout).toContain(`Report written to ${file}`);
    // the command writes exactly what the report builds from that warehouse
    expect(await readFile(file, 'utf8')).toBe(expected);

    const missing = await exec(process.execPath, ['--import', 'tsx', 'functions/local/report.ts'], { env: { ...process.env, PIPELINE_LOCAL_DIR: path.join(dir, 'absent') }, timeout: 60_000 }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toMatch(/report failed: no warehouse at .*absent.*warehouse\.duckdb: run npm start first/);
  }, 180_000);
});
