/**
 * The engine matrix for every suite that touches the warehouse (DESIGN.md, "Two warehouse
 * engines, one SQL text"): DuckDB always, SQL Server / Azure SQL when a test database is
 * configured, otherwise skipped with a visible reason.
 *
 * SQL Server is configured with:
 *
 *   TEST_SQL_SERVER                    host name, e.g. localhost or myserver.database.windows.net
 *   TEST_SQL_DATABASE                  a SCRATCH database: every catalogue table in it is emptied
 *                                      before each test that opens it
 *   TEST_SQL_PORT                      optional, default 1433
 *   TEST_SQL_AUTH                      `sql-password` or `default` (DefaultAzureCredential: `az login`,
 *                                      managed identity); default `sql-password` when TEST_SQL_USER
 *                                      is set, else `default`
 *   TEST_SQL_USER, TEST_SQL_PASSWORD   for `sql-password`
 *   TEST_SQL_ENCRYPT                   optional `true` | `false`, default `true`
 *   TEST_SQL_TRUST_SERVER_CERTIFICATE  `true` for a local SQL Server with a self-signed certificate
 *   TEST_SQL_REQUEST_TIMEOUT_MS        optional
 *   AZURE_CLIENT_ID                    optional, the managed identity to use with `default`
 *
 * Usage in a suite:
 *
 *   describe.each(ENGINES)('$name', (engine) => {
 *     if (skipUnavailable(engine)) return;
 *     let wh: Warehouse;
 *     beforeEach(async () => (wh = await engine.open()), engine.hookTimeoutMs);
 *     afterEach(() => wh.close(), engine.hookTimeoutMs);
 *     ...
 *   });
 *
 * Open per test (beforeEach) and close after it: on SQL Server, `open()` holds an application
 * lock until `close()`, so suites running in parallel workers take turns on the one database
 * instead of emptying each other's tables. Opens nested inside one process share the lock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { it } from 'vitest';
import { silentLog } from '../../functions/core/log.js';
import { loadSettings, type Settings } from '../../functions/core/settings.js';
import { ALL_TABLES, WAREHOUSE_SCHEMA } from '../../functions/domains/registry.js';
import { OPS_TABLES, type TableDef } from '../../functions/warehouse/catalog.js';
import { DuckDbWarehouse } from '../../functions/warehouse/duckdb/duckdbWarehouse.js';
import type { EngineName, JsonLinesPart, Row, SqlParams, SqlSession, Warehouse } from '../../functions/warehouse/warehouse.js';

export interface TestEngine {
  name: EngineName;
  /** Set when the engine cannot run here; the suite shows it as a skipped test. */
  skipReason?: string;
  /** A warehouse with empty catalogue tables, for one test. Close it when done. */
  open(): Promise<Warehouse>;
  /** Generous hook timeout for open / close (SQL Server may wait for a serverless resume or for the test lock). */
  hookTimeoutMs: number;
}

/**
 * For an engine that cannot run here: registers a skipped test titled with the reason (shown by
 * `--reporter=verbose`) and prints the reason while the suite is collected (the default reporter
 * shows console output but not the titles of skipped tests). Returns true when skipped.
 */
export function skipUnavailable(engine: TestEngine): boolean {
  if (!engine.skipReason) return false;
  it.skip(`skipped: ${engine.skipReason}`, () => {});
  console.warn(`skipped: ${engine.skipReason}`);
  return true;
}

/**
 * Empties every catalogue table (children first is not needed: the catalogue has no foreign keys),
 * except the bootstrap's version marker: the next open skips the DDL.
 */
export async function resetWarehouse(wh: Warehouse, tables: readonly TableDef[] = ALL_TABLES): Promise<void> {
  for (const t of tables) if (t !== OPS_TABLES.schemaVersion) await wh.exec(`DELETE FROM ${t.schema}.${t.name}`);
}

/** A Warehouse that runs `cleanup` after it closes (deletes temp files, releases the test lock). */
function withCleanup(wh: Warehouse, cleanup: () => Promise<void>): Warehouse {
  let closed: Promise<void> | undefined;
  return {
    engine: wh.engine,
    exec: (sql: string, params?: SqlParams) => wh.exec(sql, params),
    query: <T extends object = Row>(sql: string, params?: SqlParams) => wh.query<T>(sql, params),
    loadJsonLines: (table: TableDef, lines: Readable, constants?: Record<string, string>) => wh.loadJsonLines(table, lines, constants),
    loadJsonLinesMany: (table: TableDef, parts: JsonLinesPart[]) => wh.loadJsonLinesMany(table, parts),
    appendRows: (table: TableDef, rows: unknown[][]) => wh.appendRows(table, rows),
    transaction: <T>(fn: (tx: SqlSession) => Promise<T>) => wh.transaction(fn),
    close: () =>
      (closed ??= (async () => {
        try {
          await wh.close();
        } finally {
          await cleanup();
        }
      })()),
  };
}

/** A fresh DuckDB file in its own temp directory, removed on close. */
export async function openTempDuckDb(): Promise<Warehouse> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-test-'));
  const wh = await DuckDbWarehouse.open(path.join(dir, 'warehouse.duckdb'), { schema: WAREHOUSE_SCHEMA });
  return withCleanup(wh, () => rm(dir, { recursive: true, force: true }));
}

// ---- SQL Server -------------------------------------------------------------------------------

const env = process.env;

export const MSSQL_SKIP_REASON = 'mssql: set TEST_SQL_SERVER and TEST_SQL_DATABASE to run against SQL Server / Azure SQL';

/** Settings for the test database, mapped from TEST_SQL_* onto the SQL_* settings. */
export function mssqlTestSettings(): Settings {
  const auth = env.TEST_SQL_AUTH ?? (env.TEST_SQL_USER ? 'sql-password' : 'default');
  const vars: Record<string, string | undefined> = {
    WAREHOUSE_ENGINE: 'mssql',
    SQL_SERVER: env.TEST_SQL_SERVER,
    SQL_DATABASE: env.TEST_SQL_DATABASE,
    SQL_PORT: env.TEST_SQL_PORT,
    SQL_AUTH: auth,
    SQL_USER: env.TEST_SQL_USER,
    SQL_PASSWORD: env.TEST_SQL_PASSWORD,
    SQL_ENCRYPT: env.TEST_SQL_ENCRYPT,
    SQL_TRUST_SERVER_CERTIFICATE: env.TEST_SQL_TRUST_SERVER_CERTIFICATE,
    SQL_REQUEST_TIMEOUT_MS: env.TEST_SQL_REQUEST_TIMEOUT_MS,
    AZURE_CLIENT_ID: env.AZURE_CLIENT_ID,
  };
  const defined = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined && v !== ''));
  const settings = loadSettings(defined);
  // The tests empty every catalogue table: never point them at the app's own database.
  if (env.SQL_SERVER && env.SQL_DATABASE && env.SQL_SERVER === settings.SQL_SERVER && env.SQL_DATABASE === settings.SQL_DATABASE) {
    throw new Error('TEST_SQL_SERVER / TEST_SQL_DATABASE name the same database as SQL_SERVER / SQL_DATABASE: the tests empty its tables; use a scratch database');
  }
  return settings;
}

/** The lock every SQL Server test holds while it owns the scratch database (shared within a process). */
let testLock: { holders: number; release: () => Promise<void> } | undefined;
let testLockPending: Promise<void> | undefined;

async function acquireTestLock(settings: Settings): Promise<() => Promise<void>> {
  while (!testLock) {
    if (!testLockPending) {
      testLockPending = (async () => {
        const { MssqlWarehouse } = await import('../../functions/warehouse/mssql/mssqlWarehouse.js');
        const lockWh = await MssqlWarehouse.open(settings, { schema: WAREHOUSE_SCHEMA, log: silentLog });
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let held!: () => void;
        const heldNow = new Promise<void>((resolve) => (held = resolve));
        // the lock is owned by this transaction, which stays open until the last holder releases it
        const done = lockWh.transaction(async (tx) => {
          await tx.exec(
            `DECLARE @r INT;
EXEC @r = sp_getapplock @Resource = N'company-activity-pipeline:tests', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 110000;
IF @r < 0 THROW 50002, N'tests: another test run held the scratch database for more than 110 s', 1;`,
          );
          held();
          await released;
        });
        try {
          await Promise.race([heldNow, done]);
        } catch (err) {
          await lockWh.close().catch(() => undefined);
          throw err;
        }
        testLock = {
          holders: 0,
          release: async () => {
            release();
            await done.catch(() => undefined);
            await lockWh.close();
          },
        };
      })().finally(() => (testLockPending = undefined));
    }
    await testLockPending;
  }
  const lock = testLock;
  lock.holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--lock.holders === 0 && testLock === lock) {
      testLock = undefined;
      await lock.release();
    }
  };
}

async function openMssqlForTest(): Promise<Warehouse> {
  const settings = mssqlTestSettings();
  const release = await acquireTestLock(settings);
  try {
    const { MssqlWarehouse } = await import('../../functions/warehouse/mssql/mssqlWarehouse.js');
    const wh = await MssqlWarehouse.open(settings, { schema: WAREHOUSE_SCHEMA, log: silentLog });
    await resetWarehouse(wh);
    return withCleanup(wh, release);
  } catch (err) {
    await release();
    throw err;
  }
}

const mssqlConfigured = Boolean(env.TEST_SQL_SERVER && env.TEST_SQL_DATABASE);

export const ENGINES: TestEngine[] = [
  { name: 'duckdb', open: openTempDuckDb, hookTimeoutMs: 60_000 },
  {
    name: 'mssql',
    ...(mssqlConfigured ? {} : { skipReason: MSSQL_SKIP_REASON }),
    open: mssqlConfigured ? openMssqlForTest : () => Promise.reject(new Error(MSSQL_SKIP_REASON)),
    hookTimeoutMs: 300_000,
  },
];
