/**
 * The company activity fact on sparse data: calendar-day rolling sums, zero rows for days without
 * usage, churn flags on the right dates, CRM attributes as known on each day. Runs on every engine.
 */
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import { describe, expect, it } from 'vitest';
import { dateRange } from '../functions/core/dates.js';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { goldHash, putBlob, testContext, useTestStorage, useWarehousePerTest, putUsageBronzeFile, type TestStorage } from './support/pipeline.js';

type GoldRow = {
  activity_date: string;
  company_id: string;
  company_name: string | null;
  industry_tag: string | null;
  last_contact_at: Date | null;
  active_users: number;
  events: number;
  active_users_7d: number;
  events_7d: number;
  is_churn_risk: boolean;
};

// A: sparse usage (Jan 1, 5, 20, 25), never contacted, re-tagged on Jan 15.
// B: daily Jan 1-10 then stops; last contacted 2023-12-20.
// C: only in the CRM (from Jan 3), never contacted.
// D: only in usage, from Jan 10 (daily, 1 user).
const CRM = [
  'company_id,name,country,industry_tag,last_contact_at,snapshot_date',
  'A,Alpha,DE,saas,,2024-01-01',
  'B,Beta,FR,retail,2023-12-20T15:00:00Z,2024-01-01',
  'C,Gamma,US,media,,2024-01-03',
  'A,Alpha,DE,fintech,,2024-01-15',
  'B,Beta,FR,retail,2023-12-20T15:00:00Z,2024-01-15', // unchanged: no new version
].join('\n');

function usageFor(date: string): { company_id: string; active_users: number; events: number }[] {
  const day = Number(date.slice(8, 10));
  const rows: { company_id: string; active_users: number; events: number }[] = [];
  const a: Record<number, number> = { 1: 1, 5: 2, 20: 3, 25: 1 };
  if (a[day]) rows.push({ company_id: 'A', active_users: a[day], events: a[day] * 10 });
  if (day <= 10) rows.push({ company_id: 'B', active_users: 5, events: 50 });
  if (day >= 10) rows.push({ company_id: 'D', active_users: 1, events: 2 });
  return rows;
}

const testStorage = useTestStorage();

describe.each(ENGINES)('gold.fact_company_activity_daily on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  async function loadJanuary(ctx: ReturnType<typeof testContext>, lastDay = '2024-01-25') {
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', CRM);
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    for (const d of dateRange('2024-01-01', lastDay)) {
      await putUsageBronzeFile(storage.storage, d, usageFor(d));
    }
    return runTransform(ctx);
  }

  async function gold(): Promise<Map<string, GoldRow>> {
    const rows = await wh.query<GoldRow>(`SELECT * FROM gold.fact_company_activity_daily`);
    return new Map(rows.map((r) => [`${r.company_id} ${r.activity_date}`, r]));
  }

  it('is dense over calendar days with rolling sums over days, not rows', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadJanuary(ctx);
    const g = await gold();
    // A 25 days, B 25, C from Jan 3 (23), D from Jan 10 (16)
    expect(g.size).toBe(25 + 25 + 23 + 16);
    const a7 = (day: number) => g.get(`A 2024-01-${String(day).padStart(2, '0')}`)!.active_users_7d;
    expect([1, 4, 5, 7, 8, 11, 12, 19, 20, 25].map(a7)).toEqual([1, 1, 3, 3, 2, 2, 0, 0, 3, 4]);
    expect(g.get('A 2024-01-12')).toMatchObject({ active_users: 0, events: 0, events_7d: 0 });
    expect(g.get('A 2024-01-05')).toMatchObject({ active_users: 2, events: 20, events_7d: 30 });
    // B stops after Jan 10: the window empties on Jan 17
    expect(g.get('B 2024-01-16')!.active_users_7d).toBe(5);
    expect(g.get('B 2024-01-17')!.active_users_7d).toBe(0);
    // C exists only in the CRM: zero rows from its first snapshot
    expect(g.has('C 2024-01-02')).toBe(false);
    expect(g.get('C 2024-01-03')).toMatchObject({ company_name: 'Gamma', active_users: 0, active_users_7d: 0 });
    // nothing after the latest ingested activity date
    expect([...g.values()].every((r) => r.activity_date <= '2024-01-25')).toBe(true);
    // every model's key is unique (DuckDB does not enforce it; see enforcesKey)
    for (const model of MODEL_GRAPH.models) {
      const key = model.table.key!.join(', ');
      const dupes = await wh.query(`SELECT ${key}, COUNT(*) AS n FROM ${model.name} GROUP BY ${key} HAVING COUNT(*) > 1`);
      expect(dupes, model.name).toEqual([]);
    }
  });

  it('flags churn risk on the right dates, as of each row', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadJanuary(ctx);
    const g = await gold();
    const flagged = (company: string) =>
      dateRange('2024-01-01', '2024-01-25').filter((d) => g.get(`${company} ${d}`)?.is_churn_risk === true);
    // A: no users in the 7 days ending Jan 12 .. Jan 19, never contacted
    expect(flagged('A')).toEqual(dateRange('2024-01-12', '2024-01-19'));
    // B: inactive from Jan 17, but contacted on Dec 20: within 30 days until Jan 19
    expect(flagged('B')).toEqual(dateRange('2024-01-20', '2024-01-25'));
    // C: never active, never contacted
    expect(flagged('C')).toEqual(dateRange('2024-01-03', '2024-01-25'));
    expect(flagged('D')).toEqual([]);
    // the reporting view lists the companies flagged on the data's last day: B and C on Jan 25
    expect(await wh.query(`SELECT as_of_date, company_id FROM reporting.companies_at_churn_risk ORDER BY company_id`)).toEqual([
      { as_of_date: '2024-01-25', company_id: 'B' },
      { as_of_date: '2024-01-25', company_id: 'C' },
    ]);
  });

  it('takes CRM attributes as known on each day (SCD type 2)', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadJanuary(ctx);
    const g = await gold();
    expect(g.get('A 2024-01-14')!.industry_tag).toBe('saas');
    expect(g.get('A 2024-01-15')!.industry_tag).toBe('fintech');
    expect(g.get('D 2024-01-12')!.company_name).toBeNull();
    const dims = await wh.query<{ company_id: string; valid_from: string; valid_to: string; is_current: boolean }>(
      `SELECT company_id, valid_from, valid_to, is_current FROM silver.dim_company ORDER BY company_id, valid_from`,
    );
    expect(dims).toEqual([
      { company_id: 'A', valid_from: '2024-01-01', valid_to: '2024-01-15', is_current: false },
      { company_id: 'A', valid_from: '2024-01-15', valid_to: '9999-12-31', is_current: true },
      { company_id: 'B', valid_from: '2024-01-01', valid_to: '9999-12-31', is_current: true },
      { company_id: 'C', valid_from: '2024-01-03', valid_to: '9999-12-31', is_current: true },
    ]);
    // lineage survives to silver: the file and line each version and each usage row came from
    const [version] = await wh.query(`SELECT _source_file, _row_number FROM silver.dim_company WHERE company_id = 'A' AND valid_from = '2024-01-15'`);
    expect(version).toEqual({ _source_file: 'landing/crm_company_daily/crm.csv', _row_number: 5 });
    const [usage] = await wh.query(`SELECT _source_file, _row_number, _ingested_at FROM silver.fact_company_usage_daily WHERE company_id = 'B' AND activity_date = '2024-01-05'`);
    expect(usage).toEqual({ _source_file: 'bronze/product_usage/activity_date=2024-01-05/usage.jsonl', _row_number: 2, _ingested_at: new Date('2024-03-01T06:00:00.000Z') });
  });

  it('honours the churn windows from settings', async () => {
    const ctx = testContext({ storage, warehouse: wh, env: { CHURN_INACTIVE_DAYS: '3', CHURN_CONTACT_WINDOW_DAYS: '10' } });
    await loadJanuary(ctx);
    const g = await gold();
    const flagged = (company: string) => dateRange('2024-01-01', '2024-01-25').filter((d) => g.get(`${company} ${d}`)?.is_churn_risk === true);
    // A inactive 3 days: Jan 4 (after Jan 1), Jan 8-19 (after Jan 5), Jan 23-24 (after Jan 20)
    expect(flagged('A')).toEqual(['2024-01-04', ...dateRange('2024-01-08', '2024-01-19'), ...dateRange('2024-01-23', '2024-01-24')]);
    // B: inactive 3 days from Jan 13; contact Dec 20 is older than 10 days by then
    expect(flagged('B')).toEqual(dateRange('2024-01-13', '2024-01-25'));
    expect(g.get('A 2024-01-08')!.active_users_7d).toBe(2); // the 7-day column stays 7 days
  });

  it('rebuilds only the affected dates on an incremental run, and a re-pull of a date replaces it', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadJanuary(ctx, '2024-01-24');
    const before = await wh.query(`SELECT * FROM gold.fact_company_activity_daily WHERE activity_date <= '2024-01-24' ORDER BY company_id, activity_date`);

    await putUsageBronzeFile(storage.storage, '2024-01-25', usageFor('2024-01-25'));
    const outcome = await runTransform(ctx);
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    const goldStep = outcome.passes[0]!.models.find((m) => m.name.startsWith('gold'))!;
    expect(goldStep.range.from).toBe('2024-01-25');
    const after = await wh.query(`SELECT * FROM gold.fact_company_activity_daily WHERE activity_date <= '2024-01-24' ORDER BY company_id, activity_date`);
    expect(after).toEqual(before);
    expect((await gold()).get('A 2024-01-25')!.active_users).toBe(1);

    // the API corrects Jan 20: the new pull replaces the old one for that date
    await putUsageBronzeFile(storage.storage, '2024-01-20', [{ company_id: 'A', active_users: 7, events: 70 }], '2024-03-02T06:00:00.000Z');
    await runTransform(ctx);
    const g = await gold();
    expect(g.get('A 2024-01-20')!.active_users).toBe(7);
    expect(g.get('A 2024-01-25')!.active_users_7d).toBe(8);
    expect(g.get('D 2024-01-20')!.active_users).toBe(0); // D was not in the corrected pull
    const [usage] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM bronze.product_usage WHERE activity_date = '2024-01-20'`);
    expect(usage!.n).toBe(1);
  });

  it('leaves gold identical when the same inputs are transformed again', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await loadJanuary(ctx);
    const first = await goldHash(wh);
    // force a full re-run over every date, as if every request were delivered again
    const again = await runTransform(ctx, [
      { source: 'product_usage', from: '2024-01-01', to: '2024-01-25', reason: 'test', mode: 'rebuild' },
      { source: 'crm_company_daily', from: '2024-01-01', to: '2024-01-15', reason: 'test', mode: 'rebuild' },
    ]);
    expect(again.status).toBe('done');
    expect(await goldHash(wh)).toEqual(first);
    expect(first.rows).toBe(89);
  });
});
