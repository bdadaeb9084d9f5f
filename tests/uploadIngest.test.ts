import { describe, expect, it } from 'vitest';
import { EVENTS, METRICS } from '../functions/core/telemetry.js';
import { runUploadIngest, type QuarantineRecord } from '../functions/ingest/uploadIngest.js';
import { handleLandingEvent, blobCreatedEvent } from '../functions/ingest/landingEvents.js';
import { crmSampleCsv } from '../functions/local/sampleData.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { jsonLines, listBlobs, putBlob, readBlobText, testContext, type TestContext, type TestStorage, useIngestFixture } from './support/pipeline.js';

let storage: TestStorage;
let warehouse: DuckDbWarehouse;
useIngestFixture((f) => ({ storage, warehouse } = f));

const HEADER = 'company_id,name,country,industry_tag,last_contact_at,snapshot_date';

interface DriftRow {
  run_id: string;
  source: string;
  source_file: string;
  drift_kind: string;
  column_name: string;
  expected: string | null;
  observed: string | null;
  detail: string | null;
}

async function driftRows(): Promise<DriftRow[]> {
  return warehouse.query<DriftRow>(
    `SELECT run_id, source, source_file, drift_kind, column_name, expected, observed, detail FROM ops.schema_drift ORDER BY source_file, drift_kind, column_name`,
  );
}

/** The ingest metrics and drift telemetry a context recorded. */
function ingestTelemetry(ctx: TestContext) {
  const of = (name: string) => ctx.telemetry.metrics.filter((m) => m.name === name).map((m) => ({ value: m.value, ...m.dimensions }));
  return {
    landed: of(METRICS.rowsLanded),
    quarantined: of(METRICS.rowsQuarantined),
    drift: of(METRICS.schemaDrift),
    driftEvents: ctx.telemetry.events.filter((e) => e.name === EVENTS.schemaDrift).map((e) => e.properties),
    rejectedEvents: ctx.telemetry.events.filter((e) => e.name === EVENTS.fileRejected).map((e) => e.properties),
  };
}

describe('upload ingest', () => {
  it('quarantines exactly the bad rows with file, line, field and reason; the rest goes to bronze', async () => {
    const ctx = testContext({ storage, warehouse });
    const csv = [
      HEADER, // line 1
      'C1,Acme,DE,saas,2024-01-02T10:00:00Z,2024-02-01', // 2 ok
      'C2,,FR,retail,,2024-02-01', // 3 empty name
      'C3,"Globex, ""the"" company",US,,2024-01-03,2024-02-01', // 4 ok: quoted comma and quotes
      'C4,Initech,US,,yesterday,2024-02-01', // 5 bad timestamp
      'C5,"Two', // 6-7 ok: newline inside quotes
      'lines",GB,media,,2024-02-01',
      'C6,Hooli,US,saas,,2024-02-31', // 8 impossible date
      'C7,Short,US', // 9 wrong field count
      ',NoId,US,,,2024-02-01', // 10 empty id
      '',
    ].join('\r\n');
    await putBlob(storage.storage, 'landing', 'crm_company_daily/export.csv', csv);

    const outcome = await runUploadIngest(ctx, 'crm_company_daily/export.csv');
    expect(outcome.status).toBe('loaded');
    if (outcome.status !== 'loaded') return;
    expect(outcome).toMatchObject({ rowsTotal: 8, rowsAccepted: 3, rowsQuarantined: 5 });
    expect(outcome.rowsAccepted + outcome.rowsQuarantined).toBe(outcome.rowsTotal);
    // a few bad values are bad rows, not a changed column type
    expect(outcome.drift).toEqual([]);
    expect(await driftRows()).toEqual([]);
    const t = ingestTelemetry(ctx);
    expect(t.landed).toEqual([{ value: 3, source: 'crm_company_daily' }]);
    expect(t.quarantined).toEqual([{ value: 5, source: 'crm_company_daily' }]);
    expect(t.drift).toEqual([]);

    const rejected = jsonLines<QuarantineRecord>(await readBlobText(storage.storage, 'quarantine', outcome.quarantineFile!.replace(/^quarantine\//, '')));
    expect(rejected.map((r) => [r.file, r.line, r.field])).toEqual([
      ['landing/crm_company_daily/export.csv', 3, 'name'],
      ['landing/crm_company_daily/export.csv', 5, 'last_contact_at'],
      ['landing/crm_company_daily/export.csv', 8, 'snapshot_date'],
      ['landing/crm_company_daily/export.csv', 9, ''],
      ['landing/crm_company_daily/export.csv', 10, 'company_id'],
    ]);
    expect(rejected.find((r) => r.line === 5)!.reason).toMatch(/last_contact_at: not an ISO 8601 date or date-time: "yesterday"/);
    expect(rejected.find((r) => r.line === 9)!.reason).toMatch(/expected 6 fields as in the header, found 3/);
    expect(rejected.find((r) => r.line === 9)!.raw).toBe('C7,Short,US');

    const bronze = jsonLines<Record<string, unknown>>(await readBlobText(storage.storage, 'bronze', outcome.bronzeFile.replace(/^bronze\//, '')));
    expect(bronze.map((r) => [r.company_id, r._row_number])).toEqual([['C1', 2], ['C3', 4], ['C5', 6]]);
    expect(bronze[1]!.name).toBe('Globex, "the" company');
    expect(bronze[2]!.name).toBe('Two\nlines');
    expect(bronze[0]!.last_contact_at).toBe('2024-01-02 10:00:00.000');
    // lineage: the line on each row, the file and ingest time once in the blob's metadata
    const meta = (await storage.storage.blobs.getContainerClient('bronze').getBlobClient(outcome.bronzeFile.replace(/^bronze\//, '')).getProperties()).metadata;
    expect(meta).toMatchObject({ source: 'crm_company_daily', source_file: encodeURIComponent('landing/crm_company_daily/export.csv'), row_count: '3', min_date: '2024-02-01', max_date: '2024-02-01' });
  });

  it('counts reconcile on a generated export with bad rows, and the bad lines are the quarantined ones', async () => {
    const ctx = testContext({ storage, warehouse });
    const sample = crmSampleCsv({ seed: 3, companies: 120, days: 30, endDate: '2024-02-29', badRowEvery: 37 });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/sample.csv', sample.csv);
    const outcome = await runUploadIngest(ctx, 'crm_company_daily/sample.csv');
    if (outcome.status !== 'loaded') throw new Error(`unexpected ${outcome.status}`);
    expect(outcome.rowsTotal).toBe(sample.rows);
    expect(outcome.rowsQuarantined).toBe(sample.badLines.length);
    expect(outcome.rowsAccepted + outcome.rowsQuarantined).toBe(sample.rows);
    const rejected = jsonLines<QuarantineRecord>(await readBlobText(storage.storage, 'quarantine', outcome.quarantineFile!.replace(/^quarantine\//, '')));
    expect(rejected.map((r) => r.line)).toEqual(sample.badLines);
    const [recorded] = await warehouse.query(`SELECT status, rows_total, rows_accepted, rows_quarantined FROM ops.file_ingests`);
    expect(recorded).toEqual({ status: 'loaded', rows_total: sample.rows, rows_accepted: outcome.rowsAccepted, rows_quarantined: sample.badLines.length });
  });

  it('rejects a file whose header misses a required column, whole, saying which; nothing of it reaches bronze', async () => {
    const ctx = testContext({ storage, warehouse });
    const csv = 'company_id,name,country,last_contact_at\nC1,Acme,DE,\nC2,Globex,FR,\n';
    await putBlob(storage.storage, 'landing', 'crm_company_daily/broken.csv', csv);
    const outcome = await runUploadIngest(ctx, 'crm_company_daily/broken.csv');
    expect(outcome.status).toBe('rejected');
    if (outcome.status !== 'rejected') return;
    expect(outcome.reason).toMatch(/landing\/crm_company_daily\/broken\.csv, line 1: missing required column "industry_tag"/);
    expect(outcome.rowsTotal).toBe(2);
    expect(await listBlobs(storage.storage, 'bronze')).toEqual([]);
    // the file itself is kept in quarantine beside its reason
    const q = await listBlobs(storage.storage, 'quarantine');
    expect(q.some((n) => n.endsWith('.file/broken.csv'))).toBe(true);
    const reason = JSON.parse(await readBlobText(storage.storage, 'quarantine', q.find((n) => n.endsWith('reason.json'))!)) as { reason: string };
    expect(reason.reason).toContain('industry_tag');
    const [run] = await warehouse.query(`SELECT status, rows_rejected FROM ops.pipeline_runs`);
    expect(run).toEqual({ status: 'succeeded', rows_rejected: 2 });
    // reported: the rejection, and every row of the file as quarantined
    const t = ingestTelemetry(ctx);
    expect(t.rejectedEvents).toEqual([expect.objectContaining({ source: 'crm_company_daily', file: 'landing/crm_company_daily/broken.csv', reason: outcome.reason })]);
    expect(t.landed).toEqual([{ value: 0, source: 'crm_company_daily' }]);
    expect(t.quarantined).toEqual([{ value: 2, source: 'crm_company_daily' }]);
  });

  it('still rejects a file whose required column was renamed, and records the new name as drift', async () => {
    const ctx = testContext({ storage, warehouse });
    const csv = 'company_id,name,country,industry,last_contact_at,snapshot_date\nC1,Acme,DE,saas,,2024-02-01\n';
    await putBlob(storage.storage, 'landing', 'crm_company_daily/renamed.csv', csv);
    const outcome = await runUploadIngest(ctx, 'crm_company_daily/renamed.csv');
    if (outcome.status !== 'rejected') throw new Error(outcome.status);
    expect(outcome.reason).toMatch(/missing required column "industry_tag"/);
    expect(outcome.drift.map((f) => [f.kind, f.column])).toEqual([['new_column', 'industry']]);
    expect((await driftRows()).map((r) => [r.drift_kind, r.column_name, r.source_file])).toEqual([['new_column', 'industry', 'landing/crm_company_daily/renamed.csv']]);
    expect(await listBlobs(storage.storage, 'bronze')).toEqual([]);
    expect(ingestTelemetry(ctx).drift).toEqual([{ value: 1, source: 'crm_company_daily', kind: 'new_column' }]);
  });

  it('records a new column and a missing optional column as drift, loads the file as before, and does not duplicate drift on re-delivery', async () => {
    const ctx = testContext({ storage, warehouse });
    const file = 'landing/crm_company_daily/drift.csv';
    const csv = 'company_id,name,country,industry_tag,last_contact_at,Account Owner\nC1,Acme,DE,saas,,ann@example.com\nC2,Globex,FR,,2024-01-02,\n';
    await putBlob(storage.storage, 'landing', 'crm_company_daily/drift.csv', csv);
    const event = blobCreatedEvent('crm_company_daily/drift.csv', 'http://ignored');
    const outcome = await handleLandingEvent(ctx, event);
    if (outcome?.status !== 'loaded') throw new Error(outcome?.status);
    expect(outcome).toMatchObject({ rowsTotal: 2, rowsAccepted: 2, rowsQuarantined: 0 });
    expect(outcome.drift).toEqual([
      expect.objectContaining({ kind: 'new_column', column: 'account owner', observed: 'text', example: 'ann@example.com' }),
      expect.objectContaining({ kind: 'missing_optional_column', column: 'snapshot_date', expected: 'date' }),
    ]);
    // the extra column is still kept in bronze
    const bronze = jsonLines<Record<string, unknown>>(await readBlobText(storage.storage, 'bronze', outcome.bronzeFile.replace(/^bronze\//, '')));
    expect(bronze.map((r) => r._extra_columns)).toEqual(['{"account owner":"ann@example.com"}', '{"account owner":""}']);

    const [run] = await warehouse.query<{ run_id: string; detail: string }>(`SELECT run_id, detail FROM ops.pipeline_runs`);
    const rows = await driftRows();
    expect(rows).toEqual([
      expect.objectContaining({ run_id: run!.run_id, source: 'crm_company_daily', source_file: file, drift_kind: 'missing_optional_column', column_name: 'snapshot_date', expected: 'date', observed: null }),
      expect.objectContaining({ run_id: run!.run_id, source: 'crm_company_daily', source_file: file, drift_kind: 'new_column', column_name: 'account owner', expected: null, observed: 'text' }),
    ]);
    expect(rows.find((r) => r.drift_kind === 'new_column')!.detail).toContain('kept in bronze as _extra_columns');
    // in the run's detail, and reported: one warning naming the file, a metric and an event per finding
    expect((JSON.parse(run!.detail) as { drift: unknown[] }).drift).toHaveLength(2);
    const warnings = ctx.log.lines.filter((l) => l.level === 'warn' && l.message.startsWith('schema drift'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe(`schema drift in ${file}: new_column "account owner"; missing_optional_column "snapshot_date"`);
    const t = ingestTelemetry(ctx);
    expect(t.drift).toEqual([
      { value: 1, source: 'crm_company_daily', kind: 'new_column' },
      { value: 1, source: 'crm_company_daily', kind: 'missing_optional_column' },
    ]);
    expect(t.driftEvents).toEqual([
      expect.objectContaining({ runId: run!.run_id, source: 'crm_company_daily', file, kind: 'new_column', column: 'account owner' }),
      expect.objectContaining({ runId: run!.run_id, source: 'crm_company_daily', file, kind: 'missing_optional_column', column: 'snapshot_date', expected: 'date' }),
    ]);
    expect(t.landed).toEqual([{ value: 2, source: 'crm_company_daily' }]);
    expect(t.quarantined).toEqual([{ value: 0, source: 'crm_company_daily' }]);

    // re-delivery of the event, and the same bytes under another name: no new drift rows
    expect((await handleLandingEvent(ctx, event))?.status).toBe('already_ingested');
    await putBlob(storage.storage, 'landing', 'crm_company_daily/drift-copy.csv', csv);
    expect((await runUploadIngest(ctx, 'crm_company_daily/drift-copy.csv')).status).toBe('duplicate');
    expect(await driftRows()).toEqual(rows);
    expect(ingestTelemetry(ctx).drift).toHaveLength(2);
  });

  it('records a changed type when most values of a column fail it (epoch numbers in last_contact_at); those rows are quarantined as before', async () => {
    const ctx = testContext({ storage, warehouse });
    const csv = [
      HEADER,
      'C1,Acme,DE,saas,1706868000,2024-02-01', // 2
      'C2,Globex,FR,retail,1706954400,2024-02-01', // 3
      'C3,Initech,US,,,2024-02-01', // 4: empty = never contacted, not counted
      'C4,Hooli,US,saas,2024-01-02T10:00:00Z,2024-02-01', // 5: still a valid timestamp
      'C5,Umbrella,GB,health,1707040800,2024-02-01', // 6
      '',
    ].join('\n');
    await putBlob(storage.storage, 'landing', 'crm_company_daily/epoch.csv', csv);
    const outcome = await runUploadIngest(ctx, 'crm_company_daily/epoch.csv');
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    expect(outcome).toMatchObject({ rowsTotal: 5, rowsAccepted: 2, rowsQuarantined: 3 });
    expect(outcome.drift).toEqual([
      {
        kind: 'changed_type',
        column: 'last_contact_at',
        expected: 'timestamp',
        observed: 'integer',
        example: '1706868000',
        detail: '3 of 4 non-empty values of "last_contact_at" are not timestamp (mostly integer, e.g. "1706868000"); those rows are quarantined',
      },
    ]);
    const rejected = jsonLines<QuarantineRecord>(await readBlobText(storage.storage, 'quarantine', outcome.quarantineFile!.replace(/^quarantine\//, '')));
    expect(rejected.map((r) => [r.line, r.field, r.reason])).toEqual([
      [2, 'last_contact_at', 'last_contact_at: not an ISO 8601 date or date-time: "1706868000"'],
      [3, 'last_contact_at', 'last_contact_at: not an ISO 8601 date or date-time: "1706954400"'],
      [6, 'last_contact_at', 'last_contact_at: not an ISO 8601 date or date-time: "1707040800"'],
    ]);
    expect((await driftRows()).map((r) => [r.drift_kind, r.column_name, r.expected, r.observed])).toEqual([['changed_type', 'last_contact_at', 'timestamp', 'integer']]);
    const t = ingestTelemetry(ctx);
    expect(t.drift).toEqual([{ value: 1, source: 'crm_company_daily', kind: 'changed_type' }]);
    expect(t.driftEvents).toEqual([expect.objectContaining({ kind: 'changed_type', column: 'last_contact_at', expected: 'timestamp', observed: 'integer' })]);
    expect(t.landed).toEqual([{ value: 2, source: 'crm_company_daily' }]);
    expect(t.quarantined).toEqual([{ value: 3, source: 'crm_company_daily' }]);
    expect(ctx.log.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'schema drift in landing/crm_company_daily/epoch.csv: changed_type "last_contact_at" (expected timestamp, observed integer, e.g. "1706868000")',
    ]);
  });

  it('matches headers trimmed and case-insensitively, keeps extra columns, and defaults snapshot_date to the arrival date', async () => {
    const ctx = testContext({ storage, warehouse });
    await putBlob(storage.storage, 'landing', 'crm_company_daily/loose.csv', '\ufeff Company_ID ,NAME,Country,Industry_Tag,Last_Contact_At,Account Owner\nC1,Acme,DE,saas,,ann@example.com\n');
    const outcome = await runUploadIngest(ctx, 'crm_company_daily/loose.csv');
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    const [row] = jsonLines<Record<string, unknown>>(await readBlobText(storage.storage, 'bronze', outcome.bronzeFile.replace(/^bronze\//, '')));
    const arrival = new Date().toISOString().slice(0, 10); // Azurite stamps the blob's creation time
    expect(row).toMatchObject({ company_id: 'C1', snapshot_date: arrival, _extra_columns: '{"account owner":"ann@example.com"}' });
  });

  it('changes nothing when the same event is delivered twice or the same bytes are uploaded again', async () => {
    const ctx = testContext({ storage, warehouse });
    const csv = `${HEADER}\nC1,Acme,DE,saas,,2024-02-01\n`;
    await putBlob(storage.storage, 'landing', 'crm_company_daily/a.csv', csv);
    const event = blobCreatedEvent('crm_company_daily/a.csv', 'http://ignored/landing/crm_company_daily/a.csv');
    const first = await handleLandingEvent(ctx, event);
    const bronzeBefore = await listBlobs(storage.storage, 'bronze');
    const props = await storage.storage.blobs.getContainerClient('bronze').getBlobClient(bronzeBefore[0]!).getProperties();

    const again = await handleLandingEvent(ctx, event);
    await putBlob(storage.storage, 'landing', 'crm_company_daily/a-copy.csv', csv);
    const copy = await handleLandingEvent(ctx, blobCreatedEvent('crm_company_daily/a-copy.csv', 'http://ignored'));

    expect(first?.status).toBe('loaded');
    expect(again?.status).toBe('already_ingested');
    expect(copy).toMatchObject({ status: 'duplicate', firstSeenAs: 'landing/crm_company_daily/a.csv' });
    expect(await listBlobs(storage.storage, 'bronze')).toEqual(bronzeBefore);
    const after = await storage.storage.blobs.getContainerClient('bronze').getBlobClient(bronzeBefore[0]!).getProperties();
    expect(after.etag).toBe(props.etag); // not even rewritten
    const requests = await storage.storage.queues.getQueueClient('transform-requests').getProperties();
    expect(requests.approximateMessagesCount).toBe(1);
  });

  it('rejects a file in a folder no source owns, and ignores events for other containers', async () => {
    const ctx = testContext({ storage, warehouse });
    await putBlob(storage.storage, 'landing', 'mystery/x.csv', 'a,b\n1,2\n');
    const outcome = await runUploadIngest(ctx, 'mystery/x.csv');
    expect(outcome).toMatchObject({ status: 'rejected' });
    expect(outcome.status === 'rejected' && outcome.reason).toMatch(/no source is registered for the landing folder "mystery"/);
    const ignored = await handleLandingEvent(ctx, { eventType: 'Microsoft.Storage.BlobCreated', subject: '/blobServices/default/containers/bronze/blobs/x.jsonl' });
    expect(ignored).toBeUndefined();
    await expect(handleLandingEvent(ctx, { hello: 'world' })).rejects.toThrow(/not a BlobCreated event/);
    // a file deleted before its event is handled: nothing to do, and no failure to retry
    expect(await runUploadIngest(ctx, 'crm_company_daily/deleted-meanwhile.csv')).toEqual({ status: 'gone' });
  });
});
