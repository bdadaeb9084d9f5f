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
import { cleanSvg } from '../functions/report/charts.js';
import { formatChange, formatValue } from '../functions/report/html.js';
import { fmt, type ReportPage } from '../functions/report/page.js';
import { LATEST_REPORT_BLOB, serveLatestReport } from '../functions/report/publish.js';
import { buildReport, reportPages } from '../functions/report/report.js';
import { container } from '../functions/storage/blobStore.js';
import { runTransform } from '../functions/transform/transform.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, putUsageBronzeFile, resetStorage, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { buildFixtureWarehouse, FIXTURE_AT_RISK, FIXTURE_FIGURES, IMG_NAME, SCRIPT_NAME } from './support/reportFixture.js';
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
    expect(report.pages.map((p) => p.id)).toEqual(['executive-summary', 'company-activity', 'pipeline-health']);
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
    expect([...html.matchAll(/<p class="asof" data-asof=/g)]).toHaveLength(3);
    // the insight rows of the executive summary
    expect(html).toContain('2 companies are at churn risk on 2024-01-14: no active users lately and no recent CRM contact (1 of them never contacted).');
    expect(html).toContain('2 of 4 companies (50.0 %)');

    // pipeline health: the runs and quarantine counts as recorded
    const [runs] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.pipeline_runs`);
    expect(figure(html, 'pipeline.runs').value).toBe(count(Number(runs!.n)));
    expect(column(html, 'quarantine-per-source', 'source')).toEqual(['crm_company_daily']);
    expect(column(html, 'quarantine-per-source', 'rows_accepted')).toEqual(['4']);
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
    expect(step).toMatchObject({ status: 'succeeded', rows_out: 3, error: null });
    expect(JSON.parse(step!.detail)).toMatchObject({ blob: `reports/${LATEST_REPORT_BLOB}`, pages: ['executive-summary', 'company-activity', 'pipeline-health'] });

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
    expect(all.map((p) => p.id)).toContain('company-activity');
    expect(all.map((p) => p.order)).toEqual([...all.map((p) => p.order)].sort((a, b) => a - b));
    const extra = (id: string) =>
      defineDomain({ name: 'extra', title: 'Extra', description: 'x', models: [], report: { pages: [{ id, title: 'X', order: 20, build: () => Promise.resolve(undefined) }] } });
    const withExtra = reportPages([...DOMAINS, extra('extra-page')]).map((p) => p.id);
    expect(withExtra.indexOf('extra-page')).toBe(withExtra.indexOf('executive-summary') + 1); // order 20: right after the summary, before company activity (60)
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
