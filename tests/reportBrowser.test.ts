/**
 * The report in a real browser: Debian's Chromium (`/usr/bin/chromium`) driven by playwright-core,
 * never a downloaded one. A small warehouse is built through the real pipeline (its transform
 * writes the report to Azurite, as in Azure); then both the report as `npm run report` writes it
 * (a file opened from disk) and as `GET /api/report` serves it (with its headers) are opened, every
 * page in turn, and the test finds no console error, no request but the report's own, drawn marks
 * in every chart, the marts' numbers, and hostile company names shown as text. Screenshots go to
 * `test-results/report/`.
 *
 * Without /usr/bin/chromium the suite is skipped with the reason, unless REQUIRE_BROWSER=1 (CI),
 * which makes that a failure.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, CHROMIUM_PATH, launchChromium, type Chromium } from '../functions/local/browser.js';
import { SERIES_COLORS } from '../functions/report/charts.js';
import { serveLatestReport, type ServedReport } from '../functions/report/publish.js';
import { buildReport } from '../functions/report/report.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES } from './support/engines.js';
import { testContext, useTestStorage, type TestContext } from './support/pipeline.js';
import { buildFixtureWarehouse, FIXTURE_AT_RISK, FIXTURE_CRM_FIGURES, FIXTURE_CUSTOMER_FIGURES, FIXTURE_FIGURES, HOSTILE_CUSTOMER, HOSTILE_PRODUCT, IMG_NAME, SCRIPT_NAME } from './support/reportFixture.js';

const OUT = path.resolve('test-results/report');
const SERVED_URL = 'https://report.test/api/report?code=function-key';
const browserRequired = process.env.REQUIRE_BROWSER === '1';

/** Everything a page did that it must not: console errors, script errors, dialogs, requests. */
interface Watch {
  errors: string[];
  requests: string[];
  failed: string[];
}

function watch(page: Page): Watch {
  const w: Watch = { errors: [], requests: [], failed: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') w.errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => w.errors.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    w.errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => w.requests.push(r.url()));
  page.on('requestfailed', (r) => w.failed.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
  return w;
}

/** Counts what the chart drew: data items (`data-mark`) and series-coloured lines, each of non-zero size. */
async function drawnMarks(page: Page, chart: string): Promise<{ series: number; marks: number }[]> {
  const colours = SERIES_COLORS.flatMap((c) => [`[stroke="${c}"]`, `[fill="${c}"]`]);
  return page.locator(chart).evaluateAll(
    (figures: { getAttribute(n: string): string | null; querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { width: number; height: number } }> }[], selector: string) =>
      figures.map((f) => ({
        series: Number(f.getAttribute('data-series')),
        marks: Array.from(f.querySelectorAll(selector)).filter((e) => {
          const box = e.getBoundingClientRect();
          return box.width > 0 && box.height > 0;
        }).length,
      })),
    ['svg [data-mark]', ...colours.map((c) => `svg ${c}`)].join(', '),
  );
}

const number = (text: string) => Number(text.replace(/,/g, ''));

describe('the report in Chromium', () => {
  if (!chromiumAvailable()) {
    const reason = `${CHROMIUM_PATH} is absent: install Debian's chromium (apt-get install chromium) to run the browser test`;
    if (browserRequired) {
      it('needs a browser (REQUIRE_BROWSER=1)', () => {
        throw new Error(reason);
      });
    } else {
      it.skip(`skipped: ${reason}; REQUIRE_BROWSER=1 makes this a failure`, () => {});
      console.warn(`skipped: ${reason}`);
    }
    return;
  }

  const storage = useTestStorage();
  const engine = ENGINES.find((e) => e.name === 'duckdb')!;
  let wh: Warehouse;
  let ctx: TestContext;
  let browser: Chromium;
  let file: string;
  let served: ServedReport;
  /** Every page the report has for this warehouse: a domain's new page is opened without a change here. */
  let pages: string[];

  beforeAll(async () => {
    wh = await engine.open();
    ctx = testContext({ storage: storage(), warehouse: wh });
    expect((await buildFixtureWarehouse(ctx, storage())).status).toBe('done');
    // as npm run report writes it, and as GET /api/report serves what the transform wrote
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    file = path.join(OUT, 'index.html');
    const report = await buildReport({ warehouse: wh, settings: ctx.settings });
    expect(report.failed).toEqual([]);
    pages = report.pages.map((p) => p.id);
    expect(pages).toEqual(['executive-summary', 'revenue-and-products', 'customers', 'support-and-satisfaction', 'sales-pipeline', 'company-activity', 'pipeline-health']);
    await writeFile(file, report.html);
    served = await serveLatestReport(storage().storage);
    expect(served.status).toBe(200);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await wh?.close();
  });

  it('opens every page of the file from disk with no error, no request but the file, and drawn charts', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page);
    const url = pathToFileURL(file).href;
    for (const id of pages) {
      await page.goto(`${url}#${id}`);
      // only this page shows
      for (const other of pages) expect(await page.locator(`section#${other}`).isVisible(), `${other} on #${id}`).toBe(other === id);
      await expect.poll(() => page.locator(`section#${id} h2`).innerText()).not.toBe('');
      for (const chart of await drawnMarks(page, `section#${id} figure.chart`)) expect(chart.marks, `marks of a chart on ${id}`).toBeGreaterThan(chart.series > 1 ? chart.series : 0);
      await page.screenshot({ path: path.join(OUT, `${id}.png`), fullPage: true });
    }
    expect(await page.locator('section#company-activity figure.chart').count()).toBe(3);
    expect(await page.locator('section#pipeline-health figure.chart').count()).toBe(2);
    // the CRM warehouse's pages: revenue (month, on a year before, year, order value, products, categories),
    // support (four per channel, by month, three weekly), sales pipeline (funnel, open pipeline, days, closed per month)
    expect(await page.locator('section#revenue-and-products figure.chart').count()).toBe(6);
    expect(await page.locator('section#support-and-satisfaction figure.chart').count()).toBe(8);
    expect(await page.locator('section#sales-pipeline figure.chart').count()).toBe(4);
    // customers: revenue by month, new and returning, segment sizes and value, LTV bands, the cohort heatmap, churn score bands, campaigns (customers, value)
    expect(await page.locator('section#customers figure.chart').count()).toBe(9);
    // the tabs work as links too
    await page.goto(url);
    expect(await page.locator('section#executive-summary').isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Pipeline health' }).click();
    expect(await page.locator('section#pipeline-health').isVisible()).toBe(true);
    expect(await page.locator('section#executive-summary').isVisible()).toBe(false);

    expect(seen.errors).toEqual([]);
    expect(seen.failed).toEqual([]);
    expect([...new Set(seen.requests)]).toEqual([url]);
    await page.close();
  });

  it('shows the marts\' numbers, and hostile names as text', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page);
    await page.goto(`${pathToFileURL(file).href}#company-activity`);
    const [marts] = await wh.query<{ active_users: number; events_7d: number; active_companies: number; at_risk: number }>(
      `SELECT SUM(active_users) AS active_users, SUM(events_7d) AS events_7d,
              SUM(CASE WHEN active_users_7d > 0 THEN 1 ELSE 0 END) AS active_companies,
              SUM(CASE WHEN is_churn_risk = 1 THEN 1 ELSE 0 END) AS at_risk
       FROM reporting.company_activity_daily WHERE activity_date = (SELECT MAX(activity_date) FROM reporting.company_activity_daily)`,
    );
    const fromMarts: Record<string, number> = {
      'company_activity.active_users': Number(marts!.active_users),
      'company_activity.events_7d': Number(marts!.events_7d),
      'company_activity.active_companies': Number(marts!.active_companies),
      'company_activity.companies_at_risk': Number(marts!.at_risk),
    };
    for (const [id, expected] of Object.entries(FIXTURE_FIGURES)) {
      const shown = number(await page.locator(`section#company-activity [data-figure="${id}"] .value`).innerText());
      expect(shown, id).toBe(fromMarts[id]);
      expect(shown, id).toBe(expected.value);
      // the executive summary shows the same figure
      expect(number(await page.locator(`section#executive-summary [data-figure="${id}"] .value`).textContent() ?? ''), id).toBe(shown);
    }
    // the churn list: the view's rows, in the report's order, names as plain text
    const listed = await wh.query<{ company_name: string }>(`SELECT company_name FROM reporting.companies_at_churn_risk`);
    const names = await page.locator('section#company-activity table[data-table^="companies-at-churn-risk-on-"] td[data-col="company_name"]').allInnerTexts();
    expect(names).toEqual(FIXTURE_AT_RISK);
    expect([...names].sort()).toEqual(listed.map((r) => r.company_name).sort());
    expect(await page.getByText(SCRIPT_NAME, { exact: true }).count()).toBe(1);
    expect(await page.getByText(IMG_NAME, { exact: true }).count()).toBe(1);
    // the table beside the first chart: the latest day, as the view has it
    const [latest] = await wh.query<{ active_users: number; events: number }>(
      `SELECT SUM(active_users) AS active_users, SUM(events) AS events FROM reporting.company_activity_daily WHERE activity_date = '2024-01-14'`,
    );
    const firstRow = page.locator('section#company-activity table[data-table="active-users-and-events-latest-days"] tbody tr').first();
    expect(await firstRow.locator('td[data-col="activity_date"]').innerText()).toBe('2024-01-14');
    expect(number(await firstRow.locator('td[data-col="active_users"]').innerText())).toBe(Number(latest!.active_users));
    expect(number(await firstRow.locator('td[data-col="events"]').innerText())).toBe(Number(latest!.events));
    // pipeline health: the runs and the rows quarantined, as the ops tables record them
    await page.goto(`${pathToFileURL(file).href}#pipeline-health`);
    const [runs] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.pipeline_runs`);
    expect(number(await page.locator('[data-figure="pipeline.runs"] .value').innerText())).toBe(Number(runs!.n));
    const [landed] = await wh.query<{ n: number }>(`SELECT SUM(rows_accepted) AS n FROM ops.file_ingests WHERE source = 'crm_company_daily'`);
    const companyRow = page.locator('table[data-table="quarantine-per-source"] tbody tr').filter({ has: page.locator('td[data-col="source"]', { hasText: /^crm_company_daily$/ }) });
    expect(number(await companyRow.locator('td[data-col="rows_accepted"]').innerText())).toBe(Number(landed!.n));
    // nothing the names carry became markup or ran
    expect(await page.evaluate('document.querySelectorAll("script, img, iframe, object, embed").length')).toBe(0);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('shows the CRM marts\' numbers on their pages and in the executive summary', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page);
    const url = pathToFileURL(file).href;
    // a figure's number as shown ("1,075", "1.0 h", "10.0 days", "66.7 %": a share, back to a fraction) and how finely it is shown
    const parse = (text: string) => {
      const digits = text.replace(/,/g, '').replace(/ (h|%|days)$/, '');
      const share = text.endsWith(' %');
      const decimals = digits.split('.')[1]?.length ?? 0;
      return { value: Number(digits) / (share ? 100 : 1), step: 10 ** -decimals / (share ? 100 : 1) };
    };
    const [month] = await wh.query<{ revenue: number; orders: number; aov: number }>(
      `SELECT revenue, orders, aov FROM reporting.crm_revenue_by_month
       WHERE month_start = (SELECT MAX(month_start) FROM reporting.crm_revenue_by_month WHERE is_partial_period = 0)`,
    );
    const [week] = await wh.query<{ median_first_response_hours: number; csat_positive_share: number; sla_violators: number }>(
      `SELECT median_first_response_hours, csat_positive_share, sla_violators FROM reporting.crm_weekly_ops
       WHERE week_start = (SELECT MAX(week_start) FROM reporting.crm_weekly_ops WHERE is_partial_period = 0)`,
    );
    const [pipeline] = await wh.query<{ win_rate: number; median_sales_cycle_days: number; weighted: number }>(
      `SELECT MAX(win_rate) AS win_rate, MAX(median_sales_cycle_days) AS median_sales_cycle_days, SUM(weighted_value) AS weighted FROM reporting.crm_sales_pipeline`,
    );
    const [closed] = await wh.query<{ win_rate: number }>(
      `SELECT win_rate FROM reporting.crm_deal_outcomes_by_month WHERE month_start = (SELECT MAX(month_start) FROM reporting.crm_deal_outcomes_by_month WHERE is_partial_period = 0)`,
    );
    const fromMarts: [string, string, number][] = [
      ['revenue-and-products', 'crm.revenue_month', month!.revenue],
      ['revenue-and-products', 'crm.orders_month', month!.orders],
      ['revenue-and-products', 'crm.aov_month', month!.aov],
      ['support-and-satisfaction', 'crm.median_first_response_week', week!.median_first_response_hours],
      ['support-and-satisfaction', 'crm.csat_positive_week', week!.csat_positive_share],
      ['support-and-satisfaction', 'crm.sla_violators_week', week!.sla_violators],
      ['sales-pipeline', 'crm.win_rate', pipeline!.win_rate],
      ['sales-pipeline', 'crm.median_sales_cycle', pipeline!.median_sales_cycle_days],
      ['sales-pipeline', 'crm.weighted_pipeline', pipeline!.weighted],
      ['sales-pipeline', 'crm.win_rate_month', closed!.win_rate],
    ];
    for (const [pageId, id, mart] of fromMarts) {
      await page.goto(`${url}#${pageId}`);
      const shown = parse(await page.locator(`section#${pageId} [data-figure="${id}"] .value`).innerText());
      // the mart's number, rounded as the figure shows it; and the fixture's hand-computed one
      expect(Math.abs(shown.value - Number(mart)), `${id}: ${shown.value} against the mart's ${mart}`).toBeLessThanOrEqual(shown.step / 2 + 1e-9);
      expect(shown.value, id).toBe(parse(FIXTURE_CRM_FIGURES[id as keyof typeof FIXTURE_CRM_FIGURES].value).value);
    }
    // the executive summary shows the same figures as the pages (those it carries)
    await page.goto(`${url}#executive-summary`);
    for (const [pageId, id] of fromMarts) {
      const inSummary = page.locator(`section#executive-summary [data-figure="${id}"] .value`);
      if ((await inSummary.count()) === 0) continue;
      expect(await inSummary.textContent(), id).toBe(await page.locator(`section#${pageId} [data-figure="${id}"] .value`).textContent());
    }
    expect(await page.locator('section#executive-summary [data-figure^="crm."]').count()).toBe(9);
    // the product table: the mart's order, the hostile name as text
    await page.goto(`${url}#revenue-and-products`);
    const products = await wh.query<{ product_name: string }>(`SELECT product_name FROM reporting.crm_product_performance ORDER BY cumulative_share, product_key`);
    expect(await page.locator('table[data-table="products-by-revenue"] td[data-col="product_name"]').allInnerTexts()).toEqual(products.map((p) => p.product_name));
    expect(await page.getByText(HOSTILE_PRODUCT, { exact: true }).count()).toBe(1);
    expect(await page.evaluate('document.querySelectorAll("script, img, iframe, object, embed").length')).toBe(0);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('shows the customer marts\' numbers on the Customers page and in the executive summary', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page);
    const url = pathToFileURL(file).href;
    await page.goto(`${url}#customers`);
    const [month] = await wh.query<{ revenue: number; customers: number }>(
      `SELECT revenue, customers FROM reporting.customer_monthly_metrics
       WHERE month_start = (SELECT MAX(month_start) FROM reporting.customer_monthly_metrics WHERE is_partial_period = 0)`,
    );
    const [base] = await wh.query<{ customers: number; high_risk: number; value: number }>(
      `SELECT COUNT(*) AS customers, SUM(CASE WHEN churn_risk_score >= 70 THEN 1 ELSE 0 END) AS high_risk,
              SUM(CASE WHEN churn_risk_score >= 70 THEN lifetime_value ELSE 0 END) AS value
       FROM reporting.customer_360 WHERE has_purchased = 1`,
    );
    const fromMarts: [string, number][] = [
      ['customers.revenue_month', month!.revenue],
      ['customers.customers_month', month!.customers],
      ['customers.customers', base!.customers],
      ['customers.high_churn_risk', base!.high_risk],
      ['customers.high_churn_risk_value', base!.value],
    ];
    for (const [id, mart] of fromMarts) {
      const shown = number(await page.locator(`section#customers [data-figure="${id}"] .value`).innerText());
      expect(shown, id).toBe(Number(mart));
      expect(shown, id).toBe(number(FIXTURE_CUSTOMER_FIGURES[id as keyof typeof FIXTURE_CUSTOMER_FIGURES].value));
      expect(await page.locator(`section#executive-summary [data-figure="${id}"] .value`).textContent(), id).toBe(await page.locator(`section#customers [data-figure="${id}"] .value`).textContent());
    }
    // the heatmap draws a cell per cohort and month; the campaign list shows the hostile name as text
    const [cells] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM reporting.customer_cohort_retention`);
    expect((await drawnMarks(page, 'section#customers figure.chart[data-chart="cohort-retention"]'))[0]!.marks).toBeGreaterThanOrEqual(Number(cells!.n));
    expect(await page.locator('table[data-table="campaign-targets-highest-priority-and-value-first"] td[data-col="name"]').allInnerTexts()).toEqual([`${HOSTILE_CUSTOMER} Sato`, 'Pia Park']);
    expect(await page.evaluate('document.querySelectorAll("script, img, iframe, object, embed").length')).toBe(0);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('serves the same report over HTTP with a policy the page keeps to', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page);
    const strays: string[] = [];
    // no network at all: the served report is the only answer, anything else is a stray request
    await page.route('**/*', (route) => {
      if (route.request().url() === SERVED_URL) return route.fulfill({ status: served.status, headers: served.headers, body: served.body });
      strays.push(route.request().url());
      return route.abort();
    });
    for (const id of pages) {
      await page.goto(`${SERVED_URL}#${id}`);
      expect(await page.locator(`section#${id}`).isVisible()).toBe(true);
      for (const chart of await drawnMarks(page, `section#${id} figure.chart`)) expect(chart.marks, `marks of a chart on ${id}`).toBeGreaterThan(chart.series > 1 ? chart.series : 0);
    }
    await page.screenshot({ path: path.join(OUT, 'served-pipeline-health.png'), fullPage: true });
    // the styles applied under the policy (a blocked style sheet would leave the tabs unstyled)
    expect(await page.evaluate('getComputedStyle(document.querySelector("nav.tabs a")).borderTopLeftRadius')).toBe('6px');
    expect(await page.getByText(IMG_NAME, { exact: true }).count()).toBe(1);
    expect(await page.evaluate('document.querySelectorAll("script, img").length')).toBe(0);
    expect(seen.errors).toEqual([]);
    expect(seen.failed).toEqual([]);
    expect(strays).toEqual([]);
    await page.close();
  });
});
