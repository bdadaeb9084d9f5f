/**
 * Hostile pages from the usage API, through the real ingest and client (only `fetch` is a stand-in
 * that answers every page with the text given): nothing crashes, every record is landed or
 * quarantined with its field and reason, text is trimmed, and the contract's ranges hold.
 */
import { describe, expect, it } from 'vitest';
import { runUsageIngest, usageBronzePath, usageQuarantinePath } from '../functions/ingest/usageIngest.js';
import { MAX_ACTIVE_USERS } from '../functions/domains/company_activity/sources/productUsage/contract.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { jsonLines, readBlobText, testContext, type TestStorage, useIngestFixture } from './support/pipeline.js';

let storage: TestStorage;
let warehouse: DuckDbWarehouse;
useIngestFixture((f) => ({ storage, warehouse } = f));

const DATE = '2024-02-29';
const ENV = { USAGE_API_BASE_URL: 'http://usage.invalid', USAGE_API_TOKEN: 't', USAGE_API_MAX_ATTEMPTS: '1', INGEST_MAX_DRIFT_FINDINGS: '5' };

/** Pulls DATE with every page answered by `body` (a string is sent as it is). */
async function pullPage(body: string | ((date: string) => string)) {
  const ctx = testContext({ storage, warehouse, env: ENV, now: '2024-03-01T06:00:00Z' });
  const fetchPage = (url: string | URL | Request) => {
    const date = new URL(typeof url === 'string' ? url : url instanceof URL ? url.href : url.url).searchParams.get('date')!;
    return Promise.resolve(new Response(typeof body === 'string' ? body : body(date), { status: 200, headers: { 'content-type': 'application/json' } }));
  };
  const result = await runUsageIngest(ctx, { dates: [DATE], client: { fetch: fetchPage } });
  const bronze = jsonLines(await readBlobText(storage.storage, 'bronze', usageBronzePath(DATE)));
  const quarantineBlob = storage.storage.blobs.getContainerClient('quarantine').getBlobClient(usageQuarantinePath(DATE));
  const quarantined = (await quarantineBlob.exists()) ? jsonLines<{ line: number; field: string; reason: string; record: unknown }>(await readBlobText(storage.storage, 'quarantine', usageQuarantinePath(DATE))) : [];
  expect(bronze.length + quarantined.length).toBe(result.received);
  return { result, bronze, quarantined };
}

const page = (records: unknown[]) => JSON.stringify({ date: DATE, records, next_cursor: null });

describe('hostile usage API pages', () => {
  it('trims text like CSV text, and quarantines values outside the ranges with the limit', async () => {
    const { bronze, quarantined } = await pullPage(
      page([
        { company_id: '  C1 ', date: DATE, active_users: MAX_ACTIVE_USERS, events: Number.MAX_SAFE_INTEGER },
        { company_id: 'C2', date: DATE, active_users: MAX_ACTIVE_USERS + 1, events: 1 },
        { company_id: 'C3', date: DATE, active_users: 2_147_483_647, events: 1 },
        { company_id: '   ', date: DATE, active_users: 1, events: 1 },
        { company_id: 'C4', date: DATE, active_users: 1, events: 2 ** 53 },
        { company_id: '\u{1F600}'.repeat(50), date: DATE, active_users: 1, events: 1 },
        { company_id: '\u{1F600}'.repeat(51), date: DATE, active_users: 1, events: 1 },
        { company_id: 'C5\ud800', date: DATE, active_users: 1, events: 1 },
      ]),
    );
    expect(bronze.map((r) => r.company_id)).toEqual(['C1', '\u{1F600}'.repeat(50)]);
    expect(bronze[0]).toMatchObject({ active_users: MAX_ACTIVE_USERS, events: Number.MAX_SAFE_INTEGER });
    expect(quarantined.map((q) => [q.line, q.field, q.reason])).toEqual([
      [2, 'active_users', 'greater than 5000000'],
      [3, 'active_users', 'greater than 5000000'],
      [4, 'company_id', 'empty'],
      [5, 'events', expect.stringMatching(/./) as unknown],
      [7, 'company_id', 'longer than 50 characters (51)'],
      [8, 'company_id', 'not valid Unicode text (a lone surrogate)'],
    ]);
  });

  it('survives records nested deeper than the stack, huge and odd records, and caps their drift', async () => {
    const depth = 100_000;
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const wide = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`field_${i}`, i]));
    const body = `{"date":"${DATE}","records":[${nested},{"company_id":"C1","date":"${DATE}","active_users":1,"events":1,"deep":${nested}},${JSON.stringify({ company_id: 'C2', date: DATE, active_users: 1, events: 1, ...wide })},null,"text",{"company_id":"${'x'.repeat(200_000)}","date":"${DATE}","active_users":1,"events":1}],"next_cursor":null}`;
    const { result, bronze, quarantined } = await pullPage(body);
    expect(result.received).toBe(6);
    expect(bronze.map((r) => r.company_id)).toEqual(['C1', 'C2']);
    expect(quarantined.map((q) => [q.line, q.field])).toEqual([
      [1, '(record)'],
      [4, '(record)'],
      [5, '(record)'],
      [6, 'company_id'],
    ]);
    // a record too deep or too large to keep whole is kept as the start of its text
    expect(quarantined[0]!.record).toEqual({ _truncated: expect.stringMatching(/^\(not serialisable: Maximum call stack size exceeded/) as unknown });
    expect(quarantined[3]!.record).toEqual({ _truncated: expect.stringMatching(/^\{"company_id":"x{1000}/) as unknown });
    // 3001 new fields (one of them nested too deep to show): at most 5 drift rows
    const drift = await warehouse.query<{ column_name: string }>(`SELECT column_name FROM ops.schema_drift ORDER BY column_name`);
    expect(drift.length).toBeLessThanOrEqual(5);
    expect(drift.filter((d) => /^\(\d+ more\)$/.test(d.column_name)).length).toBeGreaterThan(0);
  });

  it('fails the date, not the process, on a page that is not the contract, and writes nothing for it', async () => {
    const err = await pullPage('{"date":"2024-02-29","records":{"not":"an array"}}').catch((e: unknown) => e);
    expect(String(err)).toMatch(/page breaks the contract: records: /);
    const [run] = await warehouse.query<{ status: string }>(`SELECT status FROM ops.pipeline_runs`);
    expect(run!.status).toBe('failed');
  });
});
