/**
 * The local engine answers like Azure SQL and is at least as strict (DESIGN.md): text compares
 * binary (case- and accent-sensitive) on both engines, a text longer than its declared length
 * fails on both — counted as SQL Server counts NVARCHAR, in UTF-16 code units — and landing paths
 * up to Azure's longest blob name fit every column that holds them. On the engine matrix.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../functions/core/hash.js';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { recordedTriggerName } from '../functions/ops/runs.js';
import { runTransform } from '../functions/transform/transform.js';
import { tableNamed } from '../functions/domains/registry.js';
import { MAX_BLOB_NAME_CHARS, MAX_LANDING_PATH_CHARS, MAX_TRIGGER_NAME_CHARS, OPS_TABLES } from '../functions/warehouse/catalog.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, putUsageBronzeFile, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const testStorage = useTestStorage();

describe.each(ENGINES)('fidelity on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('keeps ids that differ only in case apart, through silver and gold', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    const crm = [
      'company_id,name,country,industry_tag,last_contact_at,snapshot_date',
      'ACME,Acme Upper,DE,saas,,2024-01-01',
      'acme,Acme Lower,us,retail,,2024-01-01', // 'us' is not an ISO code: the accepted-values test must see it
      'Zeta,Zeta,FR,media,,2024-01-01',
      'Zeta,ZETA,FR,media,,2024-01-02', // a case-only rename starts a new version
    ].join('\n');
    await putBlob(storage.storage, 'landing', 'crm_company_daily/case.csv', crm);
    await runUploadIngest(ctx, 'crm_company_daily/case.csv');
    for (const d of ['2024-01-01', '2024-01-02']) {
      await putUsageBronzeFile(storage.storage, d, [
        { company_id: 'ACME', active_users: 3, events: 30 },
        { company_id: 'acme', active_users: 5, events: 50 },
      ]);
    }
    const outcome = await runTransform(ctx);
    expect(outcome.status).toBe('done');

    const usage = await wh.query(`SELECT company_id, active_users FROM silver.fact_company_usage_daily WHERE activity_date = '2024-01-01' ORDER BY active_users`);
    expect(usage).toEqual([
      { company_id: 'ACME', active_users: 3 },
      { company_id: 'acme', active_users: 5 },
    ]);
    const versions = await wh.query(`SELECT company_id, company_name, valid_from FROM silver.dim_company ORDER BY valid_from, company_name`);
    expect(versions).toEqual([
      { company_id: 'acme', company_name: 'Acme Lower', valid_from: '2024-01-01' },
      { company_id: 'ACME', company_name: 'Acme Upper', valid_from: '2024-01-01' },
      { company_id: 'Zeta', company_name: 'Zeta', valid_from: '2024-01-01' },
      { company_id: 'Zeta', company_name: 'ZETA', valid_from: '2024-01-02' },
    ]);
    const gold = await wh.query(`SELECT company_id, company_name, active_users_7d FROM gold.fact_company_activity_daily WHERE activity_date = '2024-01-02' ORDER BY active_users_7d, company_name`);
    expect(gold).toEqual([
      { company_id: 'Zeta', company_name: 'ZETA', active_users_7d: 0 },
      { company_id: 'ACME', company_name: 'Acme Upper', active_users_7d: 6 },
      { company_id: 'acme', company_name: 'Acme Lower', active_users_7d: 10 },
    ]);
    const [country] = await wh.query<{ status: string; failing_rows: number }>(
      `SELECT status, failing_rows FROM ops.data_test_results WHERE test_id = 'silver.dim_company:accepted_values(country)'`,
    );
    expect(country).toEqual({ status: 'warn', failing_rows: 1 });
  });

  describe('refuses a text longer than its declared length, counted in UTF-16 code units', () => {
    const n = 64; // ops.leases.lease_name
    const fits = ['x'.repeat(n), `${'x'.repeat(n - 2)}😀`, 'é'.repeat(n)]; // 😀 is two code units; é one (and two UTF-8 bytes)
    const tooLong = ['x'.repeat(n + 1), `${'x'.repeat(n - 1)}😀`]; // the second has n code points but n + 1 code units

    it('in an INSERT', async () => {
      for (const name of fits) expect(await wh.exec(`INSERT INTO ops.leases (lease_name) VALUES (@name)`, { name })).toBe(1);
      for (const name of tooLong) await expect(wh.exec(`INSERT INTO ops.leases (lease_name) VALUES (@name)`, { name }), `${name.length} code units`).rejects.toThrow();
      expect(await wh.query(`SELECT COUNT(*) AS n FROM ops.leases`)).toEqual([{ n: fits.length }]);
    });

    it('in an append and a bulk load', async () => {
      expect(await wh.appendRows(OPS_TABLES.leases, fits.map((name) => [name, null, null]))).toBe(fits.length);
      for (const name of tooLong) await expect(wh.appendRows(OPS_TABLES.leases, [[name, null, null]])).rejects.toThrow();
      const id = (length: number) => `${'c'.repeat(length - 2)}😀`; // bronze company_id: 100
      const line = (companyId: string) => `${JSON.stringify({ company_id: companyId, activity_date: '2024-01-01', active_users: 1, events: 1, _row_number: 1 })}\n`;
      const lineage = { _source_file: 'f', _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: 'b' };
      expect(await wh.loadJsonLines(tableNamed('bronze.product_usage'), Readable.from([line(id(100))]), lineage)).toBe(1);
      await expect(wh.loadJsonLines(tableNamed('bronze.product_usage'), Readable.from([line(id(101))]), lineage)).rejects.toThrow();
    });
  });

  it('records a landing path as long as Azure allows in every column that holds it', async () => {
    const ctx = testContext({ storage, warehouse: wh });
    const folder = 'crm_company_daily/';
    const landingPath = `${folder}${'n'.repeat(MAX_BLOB_NAME_CHARS - folder.length - 4)}.csv`;
    expect(landingPath).toHaveLength(MAX_BLOB_NAME_CHARS);
    // an extra column: schema drift is recorded against the path too
    await putBlob(storage.storage, 'landing', landingPath, 'company_id,name,country,industry_tag,last_contact_at,snapshot_date,extra\nA,Alpha,DE,saas,,2024-01-01,x\n');
    const ingested = await runUploadIngest(ctx, landingPath);
    expect(ingested.status).toBe('loaded');
    await putUsageBronzeFile(storage.storage, '2024-01-01', [{ company_id: 'A', active_users: 1, events: 1 }]);
    expect((await runTransform(ctx)).status).toBe('done');

    const full = `landing/${landingPath}`;
    expect(full).toHaveLength(MAX_LANDING_PATH_CHARS);
    // the keys hold the path's hash (the path itself is longer than a key may be)
    expect(await wh.query(`SELECT landing_file, landing_file_hash FROM ops.file_ingests`)).toEqual([{ landing_file: full, landing_file_hash: sha256Hex(full) }]);
    expect(await wh.query(`SELECT source_file, source_file_hash, column_name FROM ops.schema_drift`)).toEqual([{ source_file: full, source_file_hash: sha256Hex(full), column_name: 'extra' }]);
    expect(await wh.query(`SELECT DISTINCT _source_file FROM bronze.crm_company_daily`)).toEqual([{ _source_file: full }]);
    expect(await wh.query(`SELECT _source_file FROM silver.dim_company`)).toEqual([{ _source_file: full }]);
    expect(await wh.query(`SELECT trigger_name FROM ops.pipeline_runs WHERE kind = 'upload_ingest'`)).toEqual([{ trigger_name: `upload_ingest:${landingPath}` }]);
  });
});

describe('trigger names', () => {
  it('are kept whole up to the column length, then cut at a code point with a mark', () => {
    expect(recordedTriggerName('upload_ingest:a.csv')).toBe('upload_ingest:a.csv');
    const long = 'x'.repeat(MAX_TRIGGER_NAME_CHARS + 10);
    expect(recordedTriggerName(long)).toHaveLength(MAX_TRIGGER_NAME_CHARS);
    expect(recordedTriggerName(long).endsWith('…')).toBe(true);
    // a surrogate pair across the cut is dropped whole, never halved
    const pair = `${'x'.repeat(8)}😀${'y'.repeat(10)}`;
    expect(recordedTriggerName(pair, 10)).toBe(`${'x'.repeat(8)}…`);
  });
});
