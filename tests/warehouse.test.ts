/**
 * Engine conformance: the same assertions on every warehouse engine (DuckDB always, SQL Server /
 * Azure SQL when TEST_SQL_* is set, see tests/support/engines.ts). What passes here is what the
 * pipeline code above the Warehouse interface may rely on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../functions/core/log.js';
import { loadSettings } from '../functions/core/settings.js';
import { tableNamed, WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import { OPS_TABLES } from '../functions/warehouse/catalog.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { isDuplicateKeyError } from '../functions/warehouse/errors.js';
import {
  isTransientSqlError,
  parseDateText,
  TRANSIENT_SQL_ERRORS,
  parseTimestampText,
  poolConfig,
  toBulkValue,
  withTransientRetry,
} from '../functions/warehouse/mssql/mssqlWarehouse.js';
import { openWarehouse } from '../functions/warehouse/openWarehouse.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';

const CRM = tableNamed('bronze.crm_company_daily');
const USAGE = tableNamed('bronze.product_usage');
const LEASES = OPS_TABLES.leases;

/** A stream of the given text cut into chunks of `size` bytes (cuts through multi-byte characters on purpose). */
function byteStream(text: string, size = 7): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

/** `count` JSON lines for bronze.product_usage, generated lazily in blocks (never all in memory). */
function usageLines(count: number): Readable {
  return Readable.from(
    (function* () {
      const block = 2_000;
      for (let start = 1; start <= count; start += block) {
        let text = '';
        for (let i = start; i < Math.min(start + block, count + 1); i++) {
          const day = String((i % 28) + 1).padStart(2, '0');
          text += `${JSON.stringify({ company_id: `c${i % 500}`, activity_date: `2024-02-${day}`, active_users: i % 10, events: i, _row_number: i })}\n`;
        }
        yield text;
      }
    })(),
  );
}

const LINEAGE = { _source_file: 'landing/crm/export.csv', _ingested_at: '2024-03-01 12:34:56.789', _bronze_file: 'bronze/crm/ingest_date=2024-03-01/export.csv' };

describe.each(ENGINES)('$name engine', (engine) => {
  if (skipUnavailable(engine)) return;

  let wh: Warehouse;
  beforeEach(async () => {
    wh = await engine.open();
  }, engine.hookTimeoutMs);
  afterEach(async () => {
    await wh?.close();
  }, engine.hookTimeoutMs);

  describe('parameters', () => {
    it('round-trip every value type through a SELECT', async () => {
      const ts = new Date(Date.UTC(2024, 1, 29, 23, 59, 58, 123));
      const text = `O'Brien, "Zoë" — 日本語 😀; DROP TABLE x; -- @not_a_param`;
      const long = 'x'.repeat(5_000) + 'é';
      const rows = await wh.query(
        `SELECT @s AS s, @long AS long_text, @i AS i, @neg AS neg, @f AS f, @t AS t, @f2 AS f2, @ts AS ts, @big AS big, @nbig AS nbig, @nothing AS nothing, CAST(@d AS DATE) AS d`,
        { s: text, long, i: 42, neg: -7, f: 1.5, t: true, f2: false, ts, big: 9_007_199_254_740_993n, nbig: -9_007_199_254_740_993n, nothing: null, d: '2024-02-29' },
      );
      expect(rows).toHaveLength(1);
      const r = rows[0]!;
      expect(r.s).toBe(text);
      expect(r.long_text).toBe(long);
      expect(r.i).toBe(42);
      expect(r.neg).toBe(-7);
      expect(r.f).toBe(1.5);
      expect(r.t).toBe(true);
      expect(r.f2).toBe(false);
      expect(r.ts).toBeInstanceOf(Date);
      expect((r.ts as Date).toISOString()).toBe('2024-02-29T23:59:58.123Z');
      expect(r.big).toBe(9_007_199_254_740_993n);
      expect(r.nbig).toBe(-9_007_199_254_740_993n);
      expect(r.nothing).toBeNull();
      expect(r.d).toBe('2024-02-29');
    });

    it('round-trip through a table: DATE as YYYY-MM-DD, TIMESTAMP as Date, BIGINT, BOOL, NULL', async () => {
      const contact = new Date(Date.UTC(2023, 11, 31, 0, 0, 0, 1));
      const insert = `INSERT INTO gold.fact_company_activity_daily
        (activity_date, company_id, company_name, country, industry_tag, last_contact_at, active_users, events, active_users_7d, events_7d, is_churn_risk)
        VALUES (@activity_date, @company_id, @company_name, @country, @industry_tag, @last_contact_at, @active_users, @events, @active_users_7d, @events_7d, @is_churn_risk)`;
      const base = { company_name: null, country: 'DE', industry_tag: 'saas', active_users: 3, events: 12, active_users_7d: 9 };
      expect(await wh.exec(insert, { ...base, activity_date: '2024-02-29', company_id: 'a', last_contact_at: contact, events_7d: 9_007_199_254_740_993n, is_churn_risk: true })).toBe(1);
      expect(await wh.exec(insert, { ...base, activity_date: '2024-03-01', company_id: 'a', last_contact_at: null, events_7d: 0, is_churn_risk: false })).toBe(1);

      const rows = await wh.query(
        `SELECT activity_date, company_name, country, last_contact_at, active_users, events, events_7d, is_churn_risk
         FROM gold.fact_company_activity_daily WHERE company_id = @id ORDER BY activity_date`,
        { id: 'a' },
      );
      expect(rows).toEqual([
        { activity_date: '2024-02-29', company_name: null, country: 'DE', last_contact_at: contact, active_users: 3, events: 12, events_7d: 9_007_199_254_740_993n, is_churn_risk: true },
        { activity_date: '2024-03-01', company_name: null, country: 'DE', last_contact_at: null, active_users: 3, events: 12, events_7d: 0, is_churn_risk: false },
      ]);

      // a DATE column compared with a date text parameter, and aggregates come back as numbers
      const agg = await wh.query(
        `SELECT COUNT(*) AS n, SUM(events) AS total, MAX(activity_date) AS last_day FROM gold.fact_company_activity_daily WHERE activity_date >= @from`,
        { from: '2024-03-01' },
      );
      expect(agg).toEqual([{ n: 1, total: 12, last_day: '2024-03-01' }]);
    });

    it('return an empty list for a query without rows, keeping the columns typed', async () => {
      expect(await wh.query(`SELECT lease_name FROM ops.leases WHERE lease_name = @n`, { n: 'none' })).toEqual([]);
    });
  });

  describe('exec', () => {
    it('returns the number of rows each statement changed', async () => {
      const insert = `INSERT INTO ops.leases (lease_name, owner, expires_at) VALUES (@name, @owner, @expires)`;
      const expires = new Date(Date.UTC(2024, 0, 1));
      expect(await wh.exec(insert, { name: 'l1', owner: 'a', expires })).toBe(1);
      expect(await wh.exec(insert, { name: 'l2', owner: 'a', expires })).toBe(1);
      expect(await wh.exec(insert, { name: 'l3', owner: 'b', expires: null })).toBe(1);
      expect(await wh.exec(`UPDATE ops.leases SET owner = @new WHERE owner = @old`, { new: 'c', old: 'a' })).toBe(2);
      expect(await wh.exec(`UPDATE ops.leases SET owner = @new WHERE owner = @old`, { new: 'c', old: 'nobody' })).toBe(0);
      expect(await wh.exec(`DELETE FROM ops.leases WHERE expires_at IS NOT NULL`)).toBe(2);
      expect(await wh.exec(`DELETE FROM ops.leases`)).toBe(1);
    });

    it('raises the engine error for a bad statement; a duplicate key is recognised as one', async () => {
      const missing = await wh.exec(`INSERT INTO ops.no_such_table (x) VALUES (1)`).catch((err: unknown) => err);
      expect(missing).toBeInstanceOf(Error);
      expect(isDuplicateKeyError(missing)).toBe(false);
      await wh.exec(`INSERT INTO ops.leases (lease_name) VALUES (@n)`, { n: 'dup' });
      const duplicate = await wh.exec(`INSERT INTO ops.leases (lease_name) VALUES (@n)`, { n: 'dup' }).catch((err: unknown) => err);
      expect(duplicate).toBeInstanceOf(Error);
      expect(isDuplicateKeyError(duplicate)).toBe(true);
    });
  });

  describe('transaction', () => {
    const count = async () => (await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.leases`))[0]!.n;
    const insert = `INSERT INTO ops.leases (lease_name, owner) VALUES (@name, @owner)`;

    it('commits all of its work and returns what fn returns', async () => {
      const result = await wh.transaction(async (tx) => {
        const a = await tx.exec(insert, { name: 't1', owner: 'x' });
        const b = await tx.exec(insert, { name: 't2', owner: 'x' });
        const seen = await tx.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.leases WHERE owner = @o`, { o: 'x' });
        return { changed: a + b, seen: seen[0]!.n };
      });
      expect(result).toEqual({ changed: 2, seen: 2 });
      expect(await count()).toBe(2);
    });

    it('rolls back everything when fn throws, and rethrows', async () => {
      await wh.exec(insert, { name: 'before', owner: 'keep' });
      const boom = new Error('boom');
      await expect(
        wh.transaction(async (tx) => {
          await tx.exec(insert, { name: 'in-tx', owner: 'x' });
          await tx.exec(`UPDATE ops.leases SET owner = @o`, { o: 'changed' });
          await tx.appendRows(LEASES, [['appended', 'y', null]]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await wh.query(`SELECT lease_name, owner FROM ops.leases`)).toEqual([{ lease_name: 'before', owner: 'keep' }]);
    });

    it('rolls back when a statement inside fails (duplicate key)', async () => {
      await expect(
        wh.transaction(async (tx) => {
          await tx.exec(insert, { name: 'k1', owner: 'x' });
          await tx.exec(insert, { name: 'k1', owner: 'x' });
        }),
      ).rejects.toThrow();
      expect(await count()).toBe(0);
    });

    it('rolls back a bulk load made inside it', async () => {
      await expect(
        wh.transaction(async (tx) => {
          const n = await tx.loadJsonLines(USAGE, usageLines(1_000), { _source_file: 'f', _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: 'b' });
          expect(n).toBe(1_000);
          throw new Error('undo the load');
        }),
      ).rejects.toThrow('undo the load');
      expect(await wh.query(`SELECT COUNT(*) AS n FROM bronze.product_usage`)).toEqual([{ n: 0 }]);
    });
  });

  describe('loadJsonLines', () => {
    it('loads quotes, commas, unicode, missing keys as NULL and constants, and returns the count', async () => {
      const lines = [
        { company_id: 'c1', name: 'Acme, "the" company', country: 'DE', industry_tag: 'saas', last_contact_at: '2024-02-01T10:00:00Z', snapshot_date: '2024-03-01', _row_number: 2 },
        { company_id: 'c2', name: "O'Hara & Söhne — 東京 😀", snapshot_date: '2024-03-01', _row_number: 3, not_in_catalogue: 'ignored' },
        { company_id: 'c3', name: 'n3', country: 'line\nbreak\ttab\\backslash', snapshot_date: '2024-03-01', _extra_columns: '{"a":1}', _row_number: 4 },
        // a key that is also a constant: the constant wins
        { company_id: 'c4', name: 'n4', snapshot_date: '2024-03-01', _row_number: 5, _source_file: 'from-the-line' },
      ];
      const text = lines.map((l) => JSON.stringify(l)).join('\r\n') + '\n\n';
      const n = await wh.loadJsonLines(CRM, byteStream(text), LINEAGE);
      expect(n).toBe(4);

      const rows = await wh.query(
        `SELECT company_id, name, country, industry_tag, last_contact_at, snapshot_date, _extra_columns, _row_number, _source_file, _ingested_at, _bronze_file
         FROM bronze.crm_company_daily ORDER BY _row_number`,
      );
      const lineage = { _source_file: LINEAGE._source_file, _ingested_at: new Date('2024-03-01T12:34:56.789Z'), _bronze_file: LINEAGE._bronze_file };
      expect(rows).toEqual([
        { company_id: 'c1', name: 'Acme, "the" company', country: 'DE', industry_tag: 'saas', last_contact_at: '2024-02-01T10:00:00Z', snapshot_date: '2024-03-01', _extra_columns: null, _row_number: 2, ...lineage },
        { company_id: 'c2', name: "O'Hara & Söhne — 東京 😀", country: null, industry_tag: null, last_contact_at: null, snapshot_date: '2024-03-01', _extra_columns: null, _row_number: 3, ...lineage },
        { company_id: 'c3', name: 'n3', country: 'line\nbreak\ttab\\backslash', industry_tag: null, last_contact_at: null, snapshot_date: '2024-03-01', _extra_columns: '{"a":1}', _row_number: 4, ...lineage },
        { company_id: 'c4', name: 'n4', country: null, industry_tag: null, last_contact_at: null, snapshot_date: '2024-03-01', _extra_columns: null, _row_number: 5, ...lineage },
      ]);
    });

    it('loads typed columns (date, int, bigint) and an empty stream as 0 rows', async () => {
      expect(await wh.loadJsonLines(USAGE, Readable.from([]), { _source_file: 'f', _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: 'b' })).toBe(0);
      const text = [
        { company_id: 'a', activity_date: '2024-02-29', active_users: 5, events: 9_007_199_254_740_991, _row_number: 1 },
        { company_id: 'b', activity_date: '2023-12-31', active_users: 0, events: 0, _row_number: 2 },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n');
      expect(await wh.loadJsonLines(USAGE, byteStream(text, 3), { _source_file: 'f', _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: 'b' })).toBe(2);
      expect(await wh.query(`SELECT company_id, activity_date, active_users, events, _ingested_at FROM bronze.product_usage ORDER BY company_id`)).toEqual([
        { company_id: 'a', activity_date: '2024-02-29', active_users: 5, events: 9_007_199_254_740_991, _ingested_at: new Date('2024-03-01T00:00:00.000Z') },
        { company_id: 'b', activity_date: '2023-12-31', active_users: 0, events: 0, _ingested_at: new Date('2024-03-01T00:00:00.000Z') },
      ]);
    });

    it('rejects a line that is not JSON and loads nothing of that stream', async () => {
      const text = `${JSON.stringify({ company_id: 'a', activity_date: '2024-02-29', active_users: 1, events: 1, _row_number: 1 })}\n{not json\n`;
      await expect(wh.loadJsonLines(USAGE, byteStream(text), { _source_file: 'f', _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: 'b' })).rejects.toThrow();
      expect(await wh.query(`SELECT COUNT(*) AS n FROM bronze.product_usage`)).toEqual([{ n: 0 }]);
    });

    it('loads many inputs in one call, each with its own constants, opening them on demand', async () => {
      const opened: number[] = [];
      const part = (i: number, rows: number) => ({
        open: () => {
          opened.push(i);
          const text = Array.from({ length: rows }, (_v, r) => JSON.stringify({ company_id: `c${r}`, activity_date: '2024-02-29', active_users: i, events: r, _row_number: r + 1 })).join('\n');
          return Promise.resolve(byteStream(text));
        },
        constants: { _source_file: `src${i}`, _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: `bronze/file${i}` },
      });
      expect(await wh.loadJsonLinesMany(USAGE, [])).toBe(0);
      expect(opened).toEqual([]);
      const n = await wh.loadJsonLinesMany(USAGE, [part(1, 3), part(2, 0), part(3, 5)]);
      expect(n).toBe(8);
      expect(opened.sort()).toEqual([1, 2, 3]);
      expect(
        await wh.query(`SELECT _bronze_file, _source_file, COUNT(*) AS n, MIN(active_users) AS lo, MAX(active_users) AS hi FROM bronze.product_usage GROUP BY _bronze_file, _source_file ORDER BY _bronze_file`),
      ).toEqual([
        { _bronze_file: 'bronze/file1', _source_file: 'src1', n: 3, lo: 1, hi: 1 },
        { _bronze_file: 'bronze/file3', _source_file: 'src3', n: 5, lo: 3, hi: 3 },
      ]);
    });

    it(
      'streams 200,000 lines: row count and sums are exact',
      async () => {
        const count = 200_000;
        const n = await wh.loadJsonLines(USAGE, usageLines(count), { _source_file: 'big', _ingested_at: '2024-03-01 00:00:00.000', _bronze_file: 'bronze/big' });
        expect(n).toBe(count);
        const [agg] = await wh.query(
          `SELECT COUNT(*) AS n, SUM(events) AS events, SUM(CAST(active_users AS BIGINT)) AS users, COUNT(DISTINCT company_id) AS companies,
                  MIN(activity_date) AS first_day, MAX(activity_date) AS last_day, MIN(_source_file) AS src
           FROM bronze.product_usage`,
        );
        let users = 0;
        for (let i = 1; i <= count; i++) users += i % 10;
        expect(agg).toEqual({ n: count, events: (count * (count + 1)) / 2, users, companies: 500, first_day: '2024-02-01', last_day: '2024-02-28', src: 'big' });
      },
      engine.name === 'mssql' ? 600_000 : 120_000,
    );
  });

  describe('appendRows', () => {
    it('appends rows given in catalogue column order and returns the count', async () => {
      const t = tableNamed('silver.fact_company_usage_daily'); // company_id, activity_date, active_users, events, _source_file, _row_number, _ingested_at
      const at = new Date(Date.UTC(2024, 2, 1, 6, 0, 0, 250));
      expect(await wh.appendRows(t, [])).toBe(0);
      const n = await wh.appendRows(t, [
        ['a', '2024-02-29', 3, 10, 'f1', 1, at],
        ['b', '2024-03-01', 0, 9_007_199_254_740_993n, 'f1', 2, '2024-03-01 06:00:00.250'],
      ]);
      expect(n).toBe(2);
      expect(await wh.query(`SELECT company_id, activity_date, active_users, events, _row_number, _ingested_at FROM silver.fact_company_usage_daily ORDER BY company_id`)).toEqual([
        { company_id: 'a', activity_date: '2024-02-29', active_users: 3, events: 10, _row_number: 1, _ingested_at: at },
        { company_id: 'b', activity_date: '2024-03-01', active_users: 0, events: 9_007_199_254_740_993n, _row_number: 2, _ingested_at: at },
      ]);
    });

    it('appends booleans and nulls', async () => {
      const t = tableNamed('silver.dim_company'); // company_id, company_name, country, industry_tag, last_contact_at, valid_from, valid_to, is_current, _source_file, _row_number
      await wh.appendRows(t, [
        ['c1', 'Acme', null, null, null, '2024-01-01', '9999-12-31', true, 'f', 1],
        ['c2', null, 'FR', 'retail', new Date(Date.UTC(2024, 0, 2)), '2024-01-01', '2024-02-01', false, 'f', 2],
      ]);
      expect(await wh.query(`SELECT company_id, company_name, country, last_contact_at, valid_to, is_current FROM silver.dim_company ORDER BY company_id`)).toEqual([
        { company_id: 'c1', company_name: 'Acme', country: null, last_contact_at: null, valid_to: '9999-12-31', is_current: true },
        { company_id: 'c2', company_name: null, country: 'FR', last_contact_at: new Date(Date.UTC(2024, 0, 2)), valid_to: '2024-02-01', is_current: false },
      ]);
    });
  });

  it('sorts NULL as SQL Server does: first ascending, last descending, in ORDER BY and in a window', async () => {
    // SQL Server: NULL is the lowest value. DuckDB's default (NULLs last both ways) is changed where
    // the warehouse opens, so a tie-break on a nullable column answers the same on both engines.
    const v = `(SELECT 2 AS k, 20 AS x UNION ALL SELECT 1, NULL UNION ALL SELECT 3, 10) v`;
    const asc = await wh.query<{ k: number; running: number }>(`SELECT k, SUM(k) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) AS running FROM ${v} ORDER BY x`);
    // NULL (k 1), 10 (k 3), 20 (k 2): running 1, 4, 6
    expect(asc).toEqual([{ k: 1, running: 1 }, { k: 3, running: 4 }, { k: 2, running: 6 }]);
    const desc = await wh.query<{ k: number; running: number }>(`SELECT k, SUM(k) OVER (ORDER BY x DESC ROWS UNBOUNDED PRECEDING) AS running FROM ${v} ORDER BY x DESC`);
    // 20 (k 2), 10 (k 3), NULL (k 1): running 2, 5, 6
    expect(desc).toEqual([{ k: 2, running: 2 }, { k: 3, running: 5 }, { k: 1, running: 6 }]);
  });

  it(
    'opens again over existing schemas and tables (bootstrap is idempotent)',
    async () => {
      const again = await engine.open();
      try {
        expect(await again.query(`SELECT COUNT(*) AS n FROM ops.leases`)).toEqual([{ n: 0 }]);
      } finally {
        await again.close();
      }
    },
    engine.hookTimeoutMs,
  );
});

describe('duckdb bootstrap on an existing file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is idempotent and keeps the data', async () => {
    const file = path.join(dir, 'warehouse.duckdb');
    const first = await DuckDbWarehouse.open(file, { schema: WAREHOUSE_SCHEMA });
    await first.exec(`INSERT INTO ops.leases (lease_name, owner) VALUES (@n, @o)`, { n: 'kept', o: 'me' });
    await first.close();
    const second = await DuckDbWarehouse.open(file, { schema: WAREHOUSE_SCHEMA });
    try {
      expect(await second.query(`SELECT lease_name, owner FROM ops.leases`)).toEqual([{ lease_name: 'kept', owner: 'me' }]);
    } finally {
      await second.close();
    }
  });
  it('drops the NOT NULL of a column an earlier version declared required (nullableLater)', async () => {
    const file = path.join(dir, 'warehouse.duckdb');
    // the warehouse as the version before it created it: every nullableLater column still NOT NULL
    const earlier = {
      ...WAREHOUSE_SCHEMA,
      tables: WAREHOUSE_SCHEMA.tables.map((t) => ({ ...t, columns: t.columns.map(({ nullableLater, ...c }) => (nullableLater ? { ...c, nullable: false } : c)) })),
    };
    const relaxedColumns = (t: { columns: { nullableLater?: true }[] }) => t.columns.filter((c) => c.nullableLater).length;
    expect(WAREHOUSE_SCHEMA.tables.some((t) => relaxedColumns(t) > 0)).toBe(true);
    const nullability = async (wh: DuckDbWarehouse) =>
      wh.query(`SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'gold' AND table_name = 'churn_predictions' AND column_name = 'days_since_last_purchase'`);
    const first = await DuckDbWarehouse.open(file, { schema: earlier });
    expect(await nullability(first)).toEqual([{ is_nullable: 'NO' }]);
    await first.close();
    const second = await DuckDbWarehouse.open(file, { schema: WAREHOUSE_SCHEMA });
    try {
      expect(await nullability(second)).toEqual([{ is_nullable: 'YES' }]);
    } finally {
      await second.close();
    }
  });
});

describe('openWarehouse', () => {
  it('opens DuckDB by default', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-test-'));
    try {
      const wh = await openWarehouse(loadSettings({ DUCKDB_PATH: path.join(dir, 'w.duckdb') }));
      expect(wh.engine).toBe('duckdb');
      await wh.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses mssql without SQL_SERVER / SQL_DATABASE, naming what is missing', async () => {
    await expect(openWarehouse(loadSettings({ WAREHOUSE_ENGINE: 'mssql', SQL_DATABASE: 'db' }))).rejects.toThrow(/SQL_SERVER/);
    await expect(openWarehouse(loadSettings({ WAREHOUSE_ENGINE: 'mssql' }))).rejects.toThrow(/SQL_SERVER and SQL_DATABASE/);
  });
});

// ---- the mssql engine's own logic, testable without a server ------------------------------------

describe('mssql engine helpers (no server needed)', () => {
  it('classifies transient errors, wherever they are wrapped', () => {
    expect(isTransientSqlError({ name: 'RequestError', number: 40613 })).toBe(true);
    expect(isTransientSqlError({ name: 'RequestError', number: 1205, code: 'EREQUEST' })).toBe(true);
    expect(isTransientSqlError({ name: 'RequestError', code: 'EREQUEST', originalError: { info: { number: 40501 } } })).toBe(true);
    expect(isTransientSqlError({ name: 'RequestError', number: 3621, precedingErrors: [{ number: 49918 }] })).toBe(true);
    expect(isTransientSqlError(new AggregateError([new Error('x'), Object.assign(new Error('y'), { code: 'ECONNRESET' })]))).toBe(true);
    expect(isTransientSqlError({ name: 'ConnectionError', code: 'ESOCKET' })).toBe(true);
    expect(isTransientSqlError({ name: 'ConnectionError', code: 'ECONNCLOSED' })).toBe(true);
    expect(isTransientSqlError({ name: 'ConnectionError', code: 'ETIMEOUT' })).toBe(true);
    // a request timeout is the statement being slow, not the connection failing
    expect(isTransientSqlError({ name: 'RequestError', code: 'ETIMEOUT' })).toBe(false);
    // login errors lose their number in tedious: looked up by message, or 40613's text
    const msg = "Database 'db' on server 'srv' is not currently available. Please retry the connection later.";
    expect(isTransientSqlError({ name: 'ConnectionError', code: 'ELOGIN', message: msg })).toBe(true);
    expect(isTransientSqlError({ name: 'ConnectionError', code: 'ELOGIN', message: 'busy' }, (m) => (m === 'busy' ? 40501 : undefined))).toBe(true);
    expect(isTransientSqlError({ name: 'ConnectionError', code: 'ELOGIN', message: "Login failed for user 'x'." }, () => 18456)).toBe(false);
    // Microsoft's list of transient fault error codes, and the codes 40197 carries that also come alone
    for (const n of [40613, 40197, 40143, 40540, 40501, 49918, 49919, 49920, 4060, 4221, 615]) expect(isTransientSqlError({ name: 'RequestError', number: n }), String(n)).toBe(true);
    for (const reason of Object.values(TRANSIENT_SQL_ERRORS)) expect(reason.length).toBeGreaterThan(20);
    expect(isTransientSqlError({ name: 'RequestError', number: 208 })).toBe(false); // invalid object name
    expect(isTransientSqlError({ name: 'RequestError', number: 2627 })).toBe(false); // duplicate key
    expect(isTransientSqlError(new Error('plain'))).toBe(false);
    expect(isTransientSqlError(null)).toBe(false);
  });

  it('retries transient errors with growing delays, and not others', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withTransientRetry(
      'test',
      () => {
        calls++;
        return calls < 4 ? Promise.reject(Object.assign(new Error('unavailable'), { number: 40613 })) : Promise.resolve('ok');
      },
      {
        policy: { maxElapsedMs: 60_000, baseDelayMs: 100, maxDelayMs: 300 },
        log: silentLog,
        wait: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(waits).toHaveLength(3);
    // equal jitter: between half and all of 100, 200, 300 (capped)
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(waits[1]).toBeLessThanOrEqual(200);
    expect(waits[2]).toBeGreaterThanOrEqual(150);
    expect(waits[2]).toBeLessThanOrEqual(300);

    let permanentCalls = 0;
    const permanent = Object.assign(new Error('bad'), { number: 208 });
    await expect(
      withTransientRetry(
        'test',
        () => {
          permanentCalls++;
          return Promise.reject(permanent);
        },
        { log: silentLog, wait: () => Promise.resolve() },
      ),
    ).rejects.toBe(permanent);
    expect(permanentCalls).toBe(1);
  });

  it('gives up when the time budget is spent', async () => {
    let calls = 0;
    const err = Object.assign(new Error('unavailable'), { number: 40613 });
    await expect(
      withTransientRetry(
        'test',
        () => {
          calls++;
          return Promise.reject(err);
        },
        { policy: { maxElapsedMs: 0, baseDelayMs: 10, maxDelayMs: 10 }, log: silentLog, wait: () => Promise.resolve() },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('parses date and timestamp texts as UTC', () => {
    expect(parseDateText('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseDateText('2023-02-29')).toBeUndefined();
    expect(parseDateText('2024-13-01')).toBeUndefined();
    expect(parseDateText('2024-02-29 10:00:00')).toBeUndefined();
    expect(parseTimestampText('2024-02-29 23:59:58.123')?.toISOString()).toBe('2024-02-29T23:59:58.123Z');
    expect(parseTimestampText('2024-02-29T23:59:58Z')?.toISOString()).toBe('2024-02-29T23:59:58.000Z');
    expect(parseTimestampText('2024-03-01T01:30:00+02:00')?.toISOString()).toBe('2024-02-29T23:30:00.000Z');
    expect(parseTimestampText('2024-02-29 10:00:00.1234567')?.toISOString()).toBe('2024-02-29T10:00:00.123Z');
    expect(parseTimestampText('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseTimestampText('2024-02-30 00:00:00')).toBeUndefined();
    expect(parseTimestampText('yesterday')).toBeUndefined();
  });

  it('converts values for bulk copy and names the column and line on bad input', () => {
    const col = (name: string) => USAGE.columns.find((c) => c.name === name)!;
    expect(toBulkValue(USAGE, col('events'), '9007199254740993', 'line 1')).toBe(9_007_199_254_740_993n);
    expect(toBulkValue(USAGE, col('events'), 12, 'line 1')).toBe(12n);
    expect(toBulkValue(USAGE, col('active_users'), '7', 'line 1')).toBe(7);
    expect(toBulkValue(USAGE, col('activity_date'), '2024-02-29', 'line 1')).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect(toBulkValue(USAGE, col('_ingested_at'), '2024-03-01 12:00:00.500', 'constant')).toEqual(new Date('2024-03-01T12:00:00.500Z'));
    expect(toBulkValue(USAGE, col('company_id'), undefined, 'line 1')).toBeNull();
    expect(() => toBulkValue(USAGE, col('active_users'), 1.5, 'line 9')).toThrow(/bronze\.product_usage\.active_users \(line 9\)/);
    expect(() => toBulkValue(USAGE, col('active_users'), 2_147_483_648, 'line 9')).toThrow(/32-bit/);
    expect(() => toBulkValue(USAGE, col('activity_date'), '29/02/2024', 'line 3')).toThrow(/YYYY-MM-DD/);
    expect(() => toBulkValue(USAGE, col('company_id'), 'x'.repeat(101), 'line 4')).toThrow(/at most 100 characters/);
    const flag = tableNamed('silver.dim_company').columns.find((c) => c.name === 'is_current')!;
    expect(toBulkValue(tableNamed('silver.dim_company'), flag, 'true', 'x')).toBe(true);
    expect(toBulkValue(tableNamed('silver.dim_company'), flag, 0, 'x')).toBe(false);
    expect(() => toBulkValue(tableNamed('silver.dim_company'), flag, 'maybe', 'x')).toThrow(/boolean/);
  });

  it('authenticates with a token credential by default, never a connection string', () => {
    const cfg = poolConfig(loadSettings({ WAREHOUSE_ENGINE: 'mssql', SQL_SERVER: 'srv.database.windows.net', SQL_DATABASE: 'db' }));
    expect(cfg.authentication?.type).toBe('token-credential');
    expect(cfg.user).toBeUndefined();
    expect(cfg.password).toBeUndefined();
    expect(cfg.options?.encrypt).toBe(true);
    expect(cfg.options?.useUTC).toBe(true);
    expect(cfg.requestTimeout).toBe(120_000);
    // one shared credential per process
    const again = poolConfig(loadSettings({ WAREHOUSE_ENGINE: 'mssql', SQL_SERVER: 'srv.database.windows.net', SQL_DATABASE: 'db' }));
    const credential = (c: typeof cfg) => (c.authentication as { options: { credential: unknown } }).options.credential;
    expect(credential(again)).toBe(credential(cfg));

    const local = poolConfig(
      loadSettings({ WAREHOUSE_ENGINE: 'mssql', SQL_SERVER: 'localhost', SQL_DATABASE: 'db', SQL_AUTH: 'sql-password', SQL_USER: 'sa', SQL_PASSWORD: 'pw', SQL_TRUST_SERVER_CERTIFICATE: 'true' }),
    );
    expect(local.authentication).toBeUndefined();
    expect(local.user).toBe('sa');
    expect(local.options?.trustServerCertificate).toBe(true);
    expect(() => poolConfig(loadSettings({ WAREHOUSE_ENGINE: 'mssql', SQL_SERVER: 'x', SQL_DATABASE: 'db', SQL_AUTH: 'sql-password' }))).toThrow(/SQL_USER and SQL_PASSWORD/);
  });
});
