import { describe, expect, it } from 'vitest';
import { runUploadIngest, type QuarantineRecord } from '../functions/ingest/uploadIngest.js';
import { splitFile, splitPoolStats, WORKER_MIN_BYTES } from '../functions/ingest/splitPool.js';
import { NotNew } from '../functions/ingest/splitRows.js';
import { uploadSourceFor } from '../functions/domains/registry.js';
import { WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import { container } from '../functions/storage/blobStore.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { jsonLines, listBlobs, putBlob, readBlobText, testContext, type TestStorage, useIngestFixture } from './support/pipeline.js';

let storage: TestStorage;
let warehouse: DuckDbWarehouse;
useIngestFixture((f) => ({ storage, warehouse } = f));

const PATH = 'crm_company_daily/large.csv';

/** A CRM snapshot file just over the worker threshold, with bad rows, quotes, line breaks in quotes and non-ASCII text. */
function largeCsv(): { text: string; rows: number; bad: number[] } {
  const lines = ['company_id,name,country,industry_tag,last_contact_at,snapshot_date'];
  const bad: number[] = [];
  let line = 1;
  let rows = 0;
  let bytes = 0;
  while (bytes < WORKER_MIN_BYTES + 200_000) {
    const before = lines.length;
    const i = rows++;
    const day = `2024-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')}`;
    if (i % 9_973 === 5) {
      lines.push(`C${i},Bad Date Ltd,DE,saas,,2024-02-31`); // impossible date: a bad row
      bad.push(++line);
    } else if (i % 7 === 0) {
      lines.push(`C${i},"Müller ""&"" Söhne, GmbH ${i}",DE,media,2024-01-02T10:00:00Z,${day}`);
      line++;
    } else if (i % 1_000 === 1) {
      lines.push(`C${i},"Two`, `lines ${i}",GB,,,${day}`); // a record over two lines
      line += 2;
    } else {
      lines.push(`C${i},Company ${i},US,retail,,${day}`);
      line++;
    }
    for (const l of lines.slice(before)) bytes += Buffer.byteLength(l) + 1;
  }
  return { text: lines.join('\n') + '\n', rows, bad };
}

/** The bronze and quarantine blobs an ingest wrote, by name, as text. */
async function writtenBlobs(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of ['bronze', 'quarantine'] as const) for (const name of await listBlobs(storage.storage, c)) out[`${c}/${name}`] = await readBlobText(storage.storage, c, name);
  return out;
}

describe('splitting large files on worker threads', () => {
  it('writes exactly the bronze and quarantine rows the calling thread writes, and recognises a re-delivered file', async () => {
    const { text, rows, bad } = largeCsv();
    expect(Buffer.byteLength(text)).toBeGreaterThan(WORKER_MIN_BYTES);
    await putBlob(storage.storage, 'landing', PATH, text);

    // in the calling thread
    const inline = await runUploadIngest(testContext({ storage, warehouse, env: { INGEST_WORKER_THREADS: '0' } }), PATH);
    expect(inline).toMatchObject({ status: 'loaded', rowsTotal: rows, rowsQuarantined: bad.length, rowsAccepted: rows - bad.length });
    const inlineBlobs = await writtenBlobs();
    for (const name of Object.keys(inlineBlobs)) await container(storage.storage, name.startsWith('bronze/') ? 'bronze' : 'quarantine').deleteBlob(name.replace(/^\w+\//, ''));

    // on a worker, into a warehouse that has not seen the file
    const fresh = await DuckDbWarehouse.open(':memory:', { schema: WAREHOUSE_SCHEMA });
    try {
      const before = splitPoolStats().filesSplit;
      const ctx = testContext({ storage, warehouse: fresh, env: { INGEST_WORKER_THREADS: '2' } });
      const progress: number[] = [];
      const onWorker = await runUploadIngest({ ...ctx, progress: (e) => progress.push(e.rowsRead) }, PATH);
      expect(splitPoolStats().filesSplit).toBe(before + 1);
      expect(onWorker).toEqual(inline);
      expect(await writtenBlobs()).toEqual(inlineBlobs);
      expect(progress.at(-1)).toBe(rows); // the worker's progress reaches the caller, to the last row

      const quarantined = jsonLines<QuarantineRecord>(inlineBlobs[`quarantine/${(inline as { quarantineFile: string }).quarantineFile.replace(/^quarantine\//, '')}`]!);
      expect(quarantined.map((q) => [q.line, q.field])).toEqual(bad.map((l) => [l, 'snapshot_date']));

      // the same event again: the worker stops at the verdict and writes nothing
      const again = await runUploadIngest(ctx, PATH);
      expect(again).toMatchObject({ status: 'already_ingested' });
      expect(splitPoolStats().filesSplit).toBe(before + 2);
      expect(await writtenBlobs()).toEqual(inlineBlobs);
    } finally {
      await fresh.close();
    }
  });

  it("fails the file with the worker's error (the landing blob is not the one its event named: 412), and the pool goes on", async () => {
    const ctx = testContext({ storage, warehouse, env: { INGEST_WORKER_THREADS: '1' } });
    const source = uploadSourceFor('crm_company_daily')!;
    const job = { sourceName: source.name, landingPath: 'crm_company_daily/missing.csv', etag: '"0x0"', landingFile: 'landing/crm_company_daily/missing.csv', arrivalDate: '2024-03-01' as const, partition: 'ingest_date=2024-03-01', ingestedAt: new Date() };
    const failed = splitFile(ctx, source, job, Promise.resolve('a'.repeat(64)), WORKER_MIN_BYTES);
    await expect(failed).rejects.toMatchObject({ statusCode: 412 });

    // a file whose hash pass failed: the worker is stopped and the hash's error is the file's
    await putBlob(storage.storage, 'landing', PATH, largeCsv().text);
    const hashError = new Error('the hash pass lost its connection');
    const stopped = splitFile(ctx, source, { ...job, landingPath: PATH, etag: '*' }, Promise.reject(hashError), WORKER_MIN_BYTES);
    await expect(stopped).rejects.toBe(hashError);

    // and a file known before: not_new
    const etag = (await container(storage.storage, 'landing').getBlobClient(PATH).getProperties()).etag!;
    const known = await splitFile(ctx, source, { ...job, landingPath: PATH, etag }, Promise.reject(new NotNew()), WORKER_MIN_BYTES);
    expect(known).toEqual({ status: 'not_new' });
  });
});
