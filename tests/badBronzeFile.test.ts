/**
 * A bronze file whose data a model cannot take (written before the contracts had their windows,
 * say) stops only the models downstream of its source, the failure names the model, the file,
 * the line and the column, and isolating the file lets the next run carry on.
 */
import { describe, expect, it } from 'vitest';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { runOperation } from '../functions/ops/operations.js';
import { bronzeLineage, container } from '../functions/storage/blobStore.js';
import { runTransform, TransformFailure } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, putUsageBronzeFile, readBlobText, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const CRM = ['company_id,name,country,industry_tag,last_contact_at,snapshot_date', 'A,Alpha,DE,saas,,2024-01-01', 'B,Beta,FR,retail,,2024-01-01'].join('\n');
const BAD_FILE = 'crm_company_daily/ingest_date=2024-01-02/legacy.jsonl';

const testStorage = useTestStorage();

describe.each(ENGINES)('a bronze file the models cannot take, on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  async function baseline(ctx: ReturnType<typeof testContext>): Promise<void> {
    await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', CRM);
    await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
    for (const d of ['2024-01-01', '2024-01-02']) await putUsageBronzeFile(storage.storage, d, [{ company_id: 'A', active_users: 3, events: 9 }]);
    expect((await runTransform(ctx)).status).toBe('done');
  }

  /** A bronze CRM file as an older ingester might have left it: line 3 holds `bad`. */
  async function putLegacyFile(bad: Record<string, string>): Promise<void> {
    const lines = [
      { company_id: 'C', name: 'Gamma', country: 'US', industry_tag: null, last_contact_at: null, snapshot_date: '2024-01-02', _extra_columns: null, _row_number: 2 },
      { company_id: 'D', name: 'Delta', country: 'US', industry_tag: null, last_contact_at: null, snapshot_date: '2024-01-02', _extra_columns: null, _row_number: 3, ...bad },
    ];
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    await storage.storage.blobs
      .getContainerClient('bronze')
      .getBlockBlobClient(BAD_FILE)
      .upload(text, Buffer.byteLength(text), {
        metadata: bronzeLineage({ source: 'crm_company_daily', sourceFile: 'landing/crm_company_daily/legacy.csv', ingestedAt: new Date('2024-01-02T06:00:00Z'), rows: 2, minDate: '2024-01-02' }),
      });
  }

  it('a file whose business dates cannot be read is isolated by the load, and the rest carries on', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await baseline(ctx);
    await putLegacyFile({ snapshot_date: 'not-a-date' });
    await putUsageBronzeFile(storage.storage, '2024-01-03', [{ company_id: 'A', active_users: 4, events: 12 }]);

    expect((await runTransform(ctx)).status).toBe('done');
    expect(await container(ctx.storage, 'bronze').getBlobClient(BAD_FILE).exists()).toBe(false);
    const reason = JSON.parse(await readBlobText(storage.storage, 'quarantine', 'crm_company_daily/ingest_date=2024-01-02/legacy.isolated/reason.json')) as { reason: string };
    expect(reason.reason).toBe('snapshot_date is not a date on line 3: "not-a-date" (1 row(s) of the file have an unreadable snapshot_date)');
    expect(await wh.query(`SELECT COUNT(*) AS n FROM bronze.crm_company_daily WHERE _bronze_file = @f`, { f: `bronze/${BAD_FILE}` })).toEqual([{ n: 0 }]);
    expect(await wh.query(`SELECT company_id, active_users FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-03' ORDER BY company_id`)).toEqual([
      { company_id: 'A', active_users: 4 },
      { company_id: 'B', active_users: 0 },
    ]);
  });

  it('a file a model cannot take fails only its descendants, names file, line and column, and is isolated so the next run carries on', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    await baseline(ctx);
    await putLegacyFile({ last_contact_at: 'yesterday-ish' });
    // and good usage for a new day, arriving meanwhile
    await putUsageBronzeFile(storage.storage, '2024-01-03', [{ company_id: 'A', active_users: 4, events: 12 }]);

    const failure = await runTransform(ctx).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(TransformFailure);
    const message = (failure as Error).message;
    expect(message).toMatch(/silver\.dim_company failed: silver\.dim_company \(sql\/company_activity\/silver\/dim_company\.sql\): /);
    expect(message).toContain(`The value is in bronze/${BAD_FILE}, line 3 (from landing/crm_company_daily/legacy.csv), column last_contact_at`);
    expect(message).toContain('npm run ops -- quarantine --file');
    // the usage model does not read the CRM file: it built the new day
    expect(await wh.query(`SELECT active_users FROM silver.fact_company_usage_daily WHERE activity_date = '2024-01-03'`)).toEqual([{ active_users: 4 }]);
    // gold reads the failed model: skipped, as it was (no row for Jan 3 yet)
    expect(await wh.query(`SELECT COUNT(*) AS n FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-03'`)).toEqual([{ n: 0 }]);
    const skipped = await wh.query<{ step_name: string }>(`SELECT step_name FROM ops.run_steps WHERE status = 'skipped' ORDER BY step_name`);
    expect(skipped.map((s) => s.step_name)).toEqual(['gold.fact_company_activity_daily']);

    // isolating the file: the next run builds everything, and nothing stays pending
    const isolated = await runOperation(ctx, 'quarantine', { file: `bronze/${BAD_FILE}`, reason: 'unreadable last_contact_at' });
    expect(isolated).toMatchObject({ status: 202, body: { rowsRemoved: 2 } });
    expect((await runTransform(ctx)).status).toBe('done');
    expect(await wh.query(`SELECT company_id, active_users FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-03' ORDER BY company_id`)).toEqual([
      { company_id: 'A', active_users: 4 },
      { company_id: 'B', active_users: 0 },
    ]);
    expect(await wh.query(`SELECT COUNT(*) AS n FROM ops.transform_requests WHERE status = 'pending'`)).toEqual([{ n: 0 }]);
  });
});
