/**
 * Hostile uploads: every whole-file rule and every limit of the upload ingest, on real Azurite and
 * DuckDB. Each case checks the outcome, the `ops.file_ingests` row and that counts reconcile.
 */
import { describe, expect, it } from 'vitest';
import { runUploadIngest, type QuarantineRecord } from '../functions/ingest/uploadIngest.js';
import { MAX_TRIGGER_NAME_CHARS } from '../functions/warehouse/catalog.js';
import { MAX_SOURCE_FILE_CHARS } from '../functions/storage/blobStore.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { jsonLines, listBlobs, readBlobText, testContext, type TestStorage, useIngestFixture } from './support/pipeline.js';

let storage: TestStorage;
let warehouse: DuckDbWarehouse;
useIngestFixture((f) => ({ storage, warehouse } = f));

const HEADER = 'company_id,name,country,industry_tag,last_contact_at,snapshot_date';
// Azurite stamps the blob's creation time: the arrival date is today
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

async function upload(name: string, content: string | Buffer, env: Record<string, string> = {}) {
  const ctx = testContext({ storage, warehouse, env });
  const blob = storage.storage.blobs.getContainerClient('landing').getBlockBlobClient(`crm_company_daily/${name}`);
  await blob.upload(content, Buffer.byteLength(content));
  const outcome = await runUploadIngest(ctx, `crm_company_daily/${name}`);
  const ingests = await warehouse.query<{ landing_file: string; status: string; rows_total: number; rows_accepted: number; rows_quarantined: number; reason: string | null }>(
    `SELECT landing_file, status, rows_total, rows_accepted, rows_quarantined, reason FROM ops.file_ingests`,
  );
  for (const i of ingests) expect(i.rows_total).toBe(i.rows_accepted + i.rows_quarantined);
  return { ctx, outcome, ingests };
}

async function quarantined(file: string | null | undefined): Promise<QuarantineRecord[]> {
  return jsonLines<QuarantineRecord>(await readBlobText(storage.storage, 'quarantine', file!.replace(/^quarantine\//, '')));
}

describe('whole-file rules', () => {
  it('rejects a 5,001-column header as too wide, fast, with an ops.file_ingests row and no drift rows', async () => {
    const header = [...HEADER.split(','), ...Array.from({ length: 4995 }, (_, i) => `extra_${i}`)].join(',');
    const row = [`C1,Acme,DE,,,${yesterday}`, ...Array.from({ length: 4995 }, () => 'x')].join(',');
    const t0 = performance.now();
    const { outcome, ingests } = await upload('wide.csv', `${header}\n${row}\n${row}\n`);
    expect(performance.now() - t0).toBeLessThan(20_000); // a bound on a hang, not a speed test
    expect(outcome).toMatchObject({ status: 'rejected', rowsTotal: 2 });
    expect(outcome.status === 'rejected' && outcome.reason).toBe('landing/crm_company_daily/wide.csv, line 1: header too wide: 5,001 columns, at most 1,000 (INGEST_MAX_COLUMNS)');
    expect(ingests).toEqual([expect.objectContaining({ status: 'rejected', rows_total: 2, rows_quarantined: 2 })]);
    expect(await warehouse.query(`SELECT * FROM ops.schema_drift`)).toEqual([]);
    expect(await listBlobs(storage.storage, 'bronze')).toEqual([]);
  });

  it('rejects a file that is not UTF-8 whole, naming line, column, byte and the encoding it looks like; nothing is replaced', async () => {
    const latin1 = Buffer.concat([Buffer.from(`${HEADER}\nC1,Acme,DE,,,${yesterday}\nC2,M`), Buffer.from([0xfc]), Buffer.from(`ller,DE,,,${yesterday}\n`)]);
    const { outcome, ingests } = await upload('latin1.csv', latin1);
    expect(outcome).toMatchObject({ status: 'rejected', rowsTotal: 2 });
    expect(outcome.status === 'rejected' && outcome.reason).toBe(
      'landing/crm_company_daily/latin1.csv: not UTF-8: byte 0xFC at line 3, column 5; looks like Latin-1/Windows-1252 (as such it reads "C2,Müller,DE,,,' + yesterday + '"). Save the file as UTF-8, or declare its encoding in the source\'s contract',
    );
    expect(ingests[0]).toMatchObject({ status: 'rejected', rows_total: 2, rows_quarantined: 2 });
    expect(await listBlobs(storage.storage, 'bronze')).toEqual([]);
    // the file itself is kept, byte for byte
    const q = await listBlobs(storage.storage, 'quarantine');
    const copy = await storage.storage.blobs.getContainerClient('quarantine').getBlobClient(q.find((n) => n.endsWith('.file/latin1.csv'))!).downloadToBuffer();
    expect(copy.equals(latin1)).toBe(true);
  });

  it('rejects a header that repeats a column, even one the contract does not know', async () => {
    const { outcome } = await upload('repeat.csv', `${HEADER},owner,Owner\nC1,Acme,DE,,,${yesterday},a,b\n`);
    expect(outcome.status === 'rejected' && outcome.reason).toMatch(/line 1: column "owner" appear more than once in the header/);
  });

  it('rejects an empty file and a file of only a BOM', async () => {
    expect(await upload('empty.csv', '').then((r) => r.outcome)).toMatchObject({ status: 'rejected', rowsTotal: 0, reason: expect.stringMatching(/the file is empty/) as unknown });
    expect(await upload('bom.csv', '\ufeff\r\n').then((r) => r.outcome)).toMatchObject({ status: 'rejected', rowsTotal: 0 });
  });

  it(`refuses a landing path longer than the warehouse records (${MAX_SOURCE_FILE_CHARS} characters), by a shortened name, and stores the rest`, async () => {
    const name = `${'d'.repeat(600)}/${'f'.repeat(600)}.csv`;
    const { outcome, ingests } = await upload(name, `${HEADER}\nC1,Acme,DE,,,${yesterday}\n`);
    expect(outcome.status).toBe('rejected');
    expect(outcome.status === 'rejected' && outcome.reason).toMatch(
      new RegExp(`^the landing path is 1231 characters long; the warehouse records at most ${MAX_SOURCE_FILE_CHARS} \\(rename the file or use shorter folders\\): landing/crm_company_daily/d{600}/`),
    );
    expect(ingests).toHaveLength(1);
    expect(ingests[0]!.landing_file.length).toBeLessThanOrEqual(MAX_SOURCE_FILE_CHARS);
    const [run] = await warehouse.query<{ trigger_name: string; status: string }>(`SELECT trigger_name, status FROM ops.pipeline_runs`);
    expect(run!.trigger_name.length).toBeLessThanOrEqual(MAX_TRIGGER_NAME_CHARS);
    expect(run!.status).toBe('succeeded');
    expect(await listBlobs(storage.storage, 'bronze')).toEqual([]);
    // the next delivery of its event is recognised: nothing is recorded twice
    const again = await runUploadIngest(testContext({ storage, warehouse }), `crm_company_daily/${name}`);
    expect(again.status).toBe('already_ingested');
  });
});

describe('limits on rows', () => {
  it('never merges two rows: a lone CR is a line break', async () => {
    const { outcome } = await upload('cr.csv', `${HEADER}\rC1,Acme,DE,,,${yesterday}\rC2,Globex,FR,,,${yesterday}\r\n`);
    expect(outcome).toMatchObject({ status: 'loaded', rowsTotal: 2, rowsAccepted: 2, rowsQuarantined: 0 });
  });

  it('quarantines an unterminated quote at its line and lands the rows after it', async () => {
    const csv = [HEADER, `C1,Acme,DE,,,${yesterday}`, `C2,"Globex,FR,,,${yesterday}`, `C3,Initech,US,,,${yesterday}`, `C4,"Hooli, Inc",US,,,${yesterday}`, ''].join('\n');
    const { outcome } = await upload('quote.csv', csv);
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    expect(outcome).toMatchObject({ rowsTotal: 4, rowsAccepted: 3, rowsQuarantined: 1 });
    const [bad] = await quarantined(outcome.quarantineFile);
    expect(bad).toMatchObject({ line: 3, field: '', raw: `C2,"Globex,FR,,,${yesterday}`, reason: expect.stringMatching(/^unparseable CSV: a quote opened on this line/) as unknown });
  });

  it('quarantines a record longer than INGEST_MAX_RECORD_CHARS at its line, in bounded memory, and goes on', async () => {
    const csv = `${HEADER}\nC1,"${'x'.repeat(5000)}\nC2,Globex,FR,,,${yesterday}\n`;
    const { outcome } = await upload('long.csv', csv, { INGEST_MAX_RECORD_CHARS: '2048' });
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    expect(outcome).toMatchObject({ rowsTotal: 2, rowsAccepted: 1, rowsQuarantined: 1 });
    const [bad] = await quarantined(outcome.quarantineFile);
    expect(bad!.line).toBe(2);
    expect(bad!.reason).toMatch(/record longer than 2,048 characters \(INGEST_MAX_RECORD_CHARS\); field 2 opens a quote/);
    expect(bad!.raw.length).toBeLessThanOrEqual(1001);
  });
});

describe('values the models cannot hold', () => {
  it('quarantines dates and timestamps outside the window, naming the field and the limit', async () => {
    const rows = [
      ['C1', 'Acme', 'DE', '', '', '0000-01-01'],
      ['C2', 'Acme', 'DE', '', '', '0001-01-01'],
      ['C3', 'Acme', 'DE', '', '', '1900-01-01'],
      ['C4', 'Acme', 'DE', '', '', '2099-01-01'],
      ['C5', 'Acme', 'DE', '', '9999-12-31T23:00:00-05:00', yesterday],
      ['C6', 'Acme', 'DE', '', '0001-01-01T00:00:00+01:00', yesterday],
      ['C7', 'Acme', 'DE', '', '1999-12-31T23:59:59Z', yesterday],
      ['C8', 'Acme', 'DE', '', `${today}T23:00:00-05:00`, yesterday], // the next UTC day: still within a day of arrival
      ['C9', 'Acme', 'DE', '', '2000-01-01', '2000-01-01'],
    ];
    const { outcome } = await upload('ranges.csv', [HEADER, ...rows.map((r) => r.join(','))].join('\n'));
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    expect(outcome).toMatchObject({ rowsTotal: 9, rowsAccepted: 2, rowsQuarantined: 7 });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await quarantined(outcome.quarantineFile)).map((q) => [q.line, q.field, q.reason])).toEqual([
      [2, 'snapshot_date', 'snapshot_date: "0000-01-01" is before 2000-01-01 (INGEST_EARLIEST_DATE)'],
      [3, 'snapshot_date', 'snapshot_date: "0001-01-01" is before 2000-01-01 (INGEST_EARLIEST_DATE)'],
      [4, 'snapshot_date', 'snapshot_date: "1900-01-01" is before 2000-01-01 (INGEST_EARLIEST_DATE)'],
      [5, 'snapshot_date', `snapshot_date: "2099-01-01" is after ${tomorrow} (1 day after the day the file arrived)`],
      [6, 'last_contact_at', `last_contact_at: "9999-12-31T23:00:00-05:00" (+010000-01-01 04:00:00.000 UTC) is after ${tomorrow} (1 day after the day the file arrived)`],
      [7, 'last_contact_at', 'last_contact_at: "0001-01-01T00:00:00+01:00" (0000-12-31 23:00:00.000 UTC) is before 2000-01-01 (INGEST_EARLIEST_DATE)'],
      [8, 'last_contact_at', 'last_contact_at: "1999-12-31T23:59:59Z" (1999-12-31 23:59:59.000 UTC) is before 2000-01-01 (INGEST_EARLIEST_DATE)'],
    ]);
  });

  it('counts text length in characters (code points), not UTF-16 units', async () => {
    const emoji = '\u{1F600}';
    const rows = [`C1,${emoji.repeat(200)},DE,,,${yesterday}`, `C2,${emoji.repeat(201)},DE,,,${yesterday}`];
    const { outcome } = await upload('emoji.csv', [HEADER, ...rows].join('\n'));
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    expect(outcome).toMatchObject({ rowsAccepted: 1, rowsQuarantined: 1 });
    expect((await quarantined(outcome.quarantineFile)).map((q) => q.reason)).toEqual(['name: longer than 200 characters (201)']);
  });

  it('records at most INGEST_MAX_DRIFT_FINDINGS drift findings per file, the rest summarised', async () => {
    const extras = Array.from({ length: 120 }, (_, i) => `extra_${String(i).padStart(3, '0')}`);
    const { outcome } = await upload('drift.csv', `${HEADER},${extras.join(',')}\nC1,Acme,DE,,,${yesterday},${extras.map(() => 'v').join(',')}\n`, { INGEST_MAX_DRIFT_FINDINGS: '10' });
    if (outcome.status !== 'loaded') throw new Error(outcome.status);
    expect(outcome.drift).toHaveLength(10);
    const rows = await warehouse.query<{ column_name: string; detail: string }>(`SELECT column_name, detail FROM ops.schema_drift ORDER BY column_name`);
    expect(rows).toHaveLength(10);
    const summary = rows.find((r) => r.column_name === '(111 more)')!;
    expect(summary.detail).toMatch(/^111 more new_column findings in this file, not recorded one by one \(at most 10 per file, INGEST_MAX_DRIFT_FINDINGS\): "extra_009", "extra_010"/);
  });
});
