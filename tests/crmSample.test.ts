/**
 * The CRM sample `npm start` uploads: deterministic, every row accounted for, and the patterns
 * planted in it found again by the metric tables. And the rebuild by change date: exports loaded
 * round by round (late and out-of-order files included) end in exactly the tables a full rebuild
 * makes. DuckDB only: the engine-level answers are the fixture suites' (crmStaging, crmFacts, crmMetrics).
 */
import { describe, expect, it } from 'vitest';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { CRM_MODELS } from '../functions/domains/crm_warehouse/models.js';
import { CRM_SOURCES, crmSample, crmWorld, csvLine, dayExports, HEADERS, productId, SAMPLE_SCALE, type CrmScale } from '../functions/domains/crm_warehouse/sample.js';
import { runOperation } from '../functions/ops/operations.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES } from './support/engines.js';
import { putBlob, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const testStorage = useTestStorage();
const END = '2024-06-30';
const duckdb = ENGINES.find((e) => e.name === 'duckdb')!;

describe('the CRM sample', () => {
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(duckdb, testStorage, (f) => ({ wh, storage } = f));

  it('is the same bytes for the same seed and end date', () => {
    const a = crmSample({ seed: 7, endDate: END });
    expect(crmSample({ seed: 7, endDate: END })).toEqual(a);
    expect(crmSample({ seed: 8, endDate: END })).not.toEqual(a);
    expect(new Set(a.map((f) => f.source)).size).toBe(7);
  });

  it('lands or quarantines every row, and its metrics show the patterns planted in it', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-07-01T06:00:00Z' });
    const files = crmSample({ seed: 42, endDate: END });
    for (const f of files) {
      await putBlob(storage.storage, 'landing', `${f.source}/${f.name}`, f.content);
      await runUploadIngest(ctx, `${f.source}/${f.name}`);
    }
    const outcome = await runTransform(ctx);
    expect(outcome.status).toBe('done');

    // every row: landed or quarantined; the quarantined ones are the two planted in each export
    const rowsInFiles = files.reduce((n, f) => n + f.content.trimEnd().split('\n').length - 1, 0);
    const [counts] = await wh.query<{ total: number; accepted: number; quarantined: number }>(`SELECT SUM(rows_total) AS total, SUM(rows_accepted) AS accepted, SUM(rows_quarantined) AS quarantined FROM ops.file_ingests`);
    const exportsWithBadRows = files.filter((f) => !f.name.includes('correction')).length;
    expect(counts).toEqual({ total: rowsInFiles, accepted: rowsInFiles - 2 * exportsWithBadRows, quarantined: 2 * exportsWithBadRows });

    // the social channel answers slower and pleases less: over the closed months, weighted by tickets
    const channels = await wh.query<{ channel: string; median_hours: number; csat: number }>(
      `SELECT channel,
              SUM(first_response_hours_median * responded) / SUM(responded) AS median_hours,
              SUM(csat_mean * csat_answers) / SUM(csat_answers) AS csat
       FROM gold.mtr_support_performance WHERE is_partial_period = 0 AND responded > 0 AND csat_answers > 0 GROUP BY channel ORDER BY channel`,
    );
    const social = channels.find((c) => c.channel === 'social')!;
    for (const other of channels.filter((c) => c.channel !== 'social')) {
      expect(social.median_hours, other.channel).toBeGreaterThan(3 * other.median_hours);
      expect(social.csat, other.channel).toBeLessThan(other.csat - 1);
    }

    // heavy-tailed resolution times: the mean well over the median in (nearly) every busy channel-month
    const months = await wh.query<{ resolution_hours_median: number; resolution_hours_mean: number }>(
      `SELECT resolution_hours_median, resolution_hours_mean FROM gold.mtr_support_performance WHERE resolved >= 20`,
    );
    expect(months.length).toBeGreaterThan(10);
    expect(months.filter((m) => m.resolution_hours_mean > 1.5 * m.resolution_hours_median).length / months.length).toBeGreaterThan(0.8);

    // revenue concentrated: a tenth of the products takes more than half of it
    const products = await wh.query<{ cumulative_share: number }>(`SELECT cumulative_share FROM gold.mtr_product_performance ORDER BY revenue_rank, product_id`);
    expect(products.length).toBe(SAMPLE_SCALE.products);
    expect(products[Math.ceil(products.length / 10) - 1]!.cumulative_share).toBeGreaterThan(0.5);

    // deals moving backward: at least one deal in twenty
    const [moves] = await wh.query<{ backward: number; deals: number }>(
      `SELECT (SELECT COUNT(DISTINCT deal_id) FROM gold.fact_deal_stage_history WHERE movement = 'Backward') AS backward, (SELECT COUNT(*) FROM gold.fact_deals) AS deals`,
    );
    expect(moves!.backward / moves!.deals).toBeGreaterThan(0.05);

    // the product that came a file after its order is the order's product now
    const [late] = await wh.query<{ product_key: number }>(`SELECT product_key FROM gold.fact_order_lines WHERE order_id = 'O9000001'`);
    const [product] = await wh.query<{ product_key: number }>(`SELECT product_key FROM gold.dim_products WHERE product_id = @id`, { id: productId(SAMPLE_SCALE.products) });
    expect(late!.product_key).toBe(product!.product_key);
    // a correction export's older versions split the periods they fall in (a qualification period appears)
    const [corrected] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM gold.fact_deal_stage_history WHERE deal_id IN ('D0000001', 'D0000002', 'D0000003') AND stage = 'qualification'`);
    expect(corrected!.n).toBeGreaterThan(0);
  }, 120_000);

  it('rebuilds by change date to exactly what a full rebuild makes, round after round of exports', async () => {
    const scale: CrmScale = { accounts: 60, contacts: 150, products: 20, deals: 150, activities: 400, tickets: 300, orderLines: 450, days: 400 };
    const files = crmSample({ seed: 3, endDate: END, scale });
    // then two daily exports as the bench sends them (new entities, and changes to old ones anywhere
    // in history): the models read only the bronze files whose dates overlap a run's range
    const world = crmWorld({ seed: 3, endDate: END, scale });
    const daily = ['2024-07-01', '2024-07-02'].map((day, d) =>
      CRM_SOURCES.map((source) => {
        const rows = dayExports({ ...world, seed: world.seed + d }, day)[source];
        return { source, name: `daily_${day}.csv`, content: HEADERS[source].join(',') + '\n' + rows.map((r) => csvLine(r.fields)).join('') };
      }),
    );
    const ctx = testContext({ storage, warehouse: wh, now: '2024-07-01T06:00:00Z' });
    // rounds as a daily process would upload them: every source's initial export, then each
    // two-week export, then the two files that came late (after the next export), then the correction
    const late = files.slice(-3, -1);
    expect(late.map((f) => f.source)).toEqual(['crm_deals', 'crm_tickets']);
    const byExport = new Map<string, typeof files>();
    for (const f of files.slice(0, -3)) {
      const key = /initial/.test(f.name) ? 'initial' : /_to_([\d-]+)/.exec(f.name)![1]!;
      byExport.set(key, [...(byExport.get(key) ?? []), f]);
    }
    const rounds = [...byExport.values(), late, files.slice(-1), ...daily];
    expect(rounds.length).toBe(8);
    let minute = 0;
    for (const [i, round] of rounds.entries()) {
      // the daily exports arrive on their day (a file's times may not lie after the day it arrives)
      const base = i < rounds.length - 2 ? '2024-07-01T06:00:00Z' : i === rounds.length - 2 ? '2024-07-02T00:30:00Z' : '2024-07-03T00:30:00Z';
      for (const f of round) {
        ctx.setNow(new Date(Date.parse(base) + ++minute * 60_000));
        await putBlob(storage.storage, 'landing', `${f.source}/${f.name}`, f.content);
        await runUploadIngest(ctx, `${f.source}/${f.name}`);
      }
      expect((await runTransform(ctx)).status).toBe('done');
    }
    const [dailyLoaded] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.file_ingests WHERE landing_file LIKE '%/daily_%' AND status = 'loaded' AND rows_accepted > 0`);
    expect(dailyLoaded!.n).toBe(2 * CRM_SOURCES.length);
    // a bronze file loaded again (replay): its rows are replaced, its dates rebuilt
    const [deals] = await wh.query<{ bronze_file: string }>(`SELECT MIN(bronze_file) AS bronze_file FROM ops.loaded_files WHERE source = 'crm_deals'`);
    expect((await runOperation(ctx, 'replay', { file: deals!.bronze_file.replace(/^bronze\//, '') })).status).toBe(202);
    expect((await runTransform(ctx)).status).toBe('done');
    const snapshot = async () => {
      const tables: Record<string, unknown[]> = {};
      for (const m of CRM_MODELS) tables[m.name] = await wh.query(`SELECT * FROM ${m.name} ORDER BY ${m.columns.map((c) => c.name).join(', ')}`);
      return tables;
    };
    const incremental = await snapshot();
    expect(incremental['gold.fact_deals']!.length).toBeGreaterThan(0);

    const full = await runTransform(ctx, [{ source: 'select', from: '1900-01-01', to: '9999-12-31', reason: 'test', mode: 'rebuild', select: 'crm_warehouse' }]);
    expect(full.status).toBe('done');
    const rebuilt = await snapshot();
    for (const m of CRM_MODELS) expect(rebuilt[m.name], m.name).toEqual(incremental[m.name]);
  }, 120_000);
});
