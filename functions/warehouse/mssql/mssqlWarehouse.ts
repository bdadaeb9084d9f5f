/**
 * The production engine: Azure SQL (or any SQL Server) through `mssql` / tedious.
 *
 * - Authentication is an Entra token credential (one shared `DefaultAzureCredential` per
 *   process), never a .NET connection string: `Authentication=Active Directory Default` in a
 *   connection string is silently treated as a SQL login (DESIGN.md). `SQL_AUTH=sql-password`
 *   is for a local SQL Server in tests only.
 * - Transient errors (a paused serverless database answers 40613 for up to about a minute,
 *   failovers, throttling, deadlocks, dropped sockets) are retried with backoff and jitter
 *   around connecting, bootstrapping and every statement run outside a transaction. Inside a
 *   transaction nothing is retried: the caller re-runs the whole unit.
 * - Loads use bulk copy (`request.bulk`) in batches, never row-by-row INSERTs. A load outside a
 *   transaction runs in one transaction of its own, so it is all-or-nothing like DuckDB's single
 *   INSERT ... SELECT.
 * - Results are normalised like the DuckDB engine: DATE as `YYYY-MM-DD`, DATETIME2 as Date,
 *   BIGINT as number when safe (bigint otherwise), BIT as boolean.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import sql from 'mssql';
import type { config as PoolConfig, ConnectionPool, IColumnMetadata, IRecordSet, ISqlType, Request, Transaction } from 'mssql';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { consoleLog, type Log } from '../../core/log.js';
import type { Settings } from '../../core/settings.js';
import type { ColumnDef, LogicalType, TableDef } from '../catalog.js';
import { BOOTSTRAP_COMPONENT, bootstrapBatches, bootstrapVersion, readVersionSql, writeVersionSql, type WarehouseSchema } from '../ddl.js';
import { explainBootstrapFailure } from './appAccess.js';
import { sqlErrorNumber } from './sqlErrors.js';
import type { JsonLinesPart, Row, SqlParams, SqlSession, SqlValue, Warehouse } from '../warehouse.js';
import { Mutex } from '../../core/mutex.js';

// ---- transient errors and retry ------------------------------------------------------------

/**
 * SQL Server / Azure SQL error numbers worth retrying, each with why. The list follows Microsoft's
 * "List of transient fault error codes"
 * (https://learn.microsoft.com/azure/azure-sql/database/troubleshoot-common-errors-issues#list-of-transient-fault-error-codes)
 * plus the resource-limit and deadlock errors that clear on their own. Left out: 926 (named by
 * that list for Managed Instance only; elsewhere it means a suspect database, which no retry fixes).
 */
export const TRANSIENT_SQL_ERRORS: Readonly<Record<number, string>> = {
  40613: 'database not currently available: a paused serverless database resuming (up to ~1 min), a failover',
  40197: 'the service hit an error processing the request (upgrade, hardware failure, failover); reconnecting reaches a healthy replica',
  40143: 'the service hit an error processing the request (one of the codes 40197 carries, also raised on its own during a reconfiguration)',
  40540: 'the service hit an error processing the request (one of the codes 40197 carries, also raised on its own during a reconfiguration)',
  40501: 'the service is busy: retry after 10 s',
  49918: 'not enough resources to process the request: the service is busy',
  49919: 'too many create or update operations in progress for the subscription',
  49920: 'too many operations in progress for the subscription',
  4060: 'cannot open the database requested by the login: seen while a database moves during a reconfiguration',
  4221: 'login to a read secondary failed waiting for its transition to versioning (a recycled replica)',
  615: 'could not find the database ID: a stale cache after a database was detached and attached during a move',
  10928: 'resource limit (workers, sessions) reached: clears as other requests finish',
  10929: 'resource limit (minimum guarantee) reached: clears as other requests finish',
  1205: 'chosen as a deadlock victim: the statement (outside a transaction) can simply run again',
};

export const TRANSIENT_SQL_ERROR_NUMBERS: ReadonlySet<number> = new Set(Object.keys(TRANSIENT_SQL_ERRORS).map(Number));

/** Connection-level failures (mssql / tedious / socket codes). */
const TRANSIENT_CONNECTION_CODES: ReadonlySet<string> = new Set(['ESOCKET', 'ECONNRESET', 'ECONNCLOSED']);

/** Looks up the server error number behind a login failure (tedious drops it, see `open`). */
export type LoginErrorLookup = (message: string) => number | undefined;

/**
 * True when `err` (or anything it wraps: `originalError`, `precedingErrors`, AggregateError
 * `errors`, `cause`) is a transient SQL Server error or a connection-level failure.
 *
 * `ETIMEOUT` counts only as a connection error (connect / pool acquire timed out): a *request*
 * timeout means the statement itself ran longer than `SQL_REQUEST_TIMEOUT_MS`, and re-running it
 * would only burn the same time again.
 */
export function isTransientSqlError(err: unknown, loginErrorNumber?: LoginErrorLookup): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 8) return false;
    seen.add(e);
    const o = e as Record<string, unknown>;
    const info = o.info as Record<string, unknown> | undefined;
    for (const n of [o.number, info?.number]) if (typeof n === 'number' && TRANSIENT_SQL_ERROR_NUMBERS.has(n)) return true;
    const code = typeof o.code === 'string' ? o.code : undefined;
    const name = typeof o.name === 'string' ? o.name : '';
    const message = typeof o.message === 'string' ? o.message : '';
    if (code && TRANSIENT_CONNECTION_CODES.has(code)) return true;
    if (code === 'ETIMEOUT' && name === 'ConnectionError') return true;
    // tarn: no connection could be acquired in time (pool busy or connections failing)
    if (name === 'TimeoutError' && /acquir/i.test(message)) return true;
    if (code === 'ELOGIN') {
      const n = loginErrorNumber?.(message);
      if (n !== undefined && TRANSIENT_SQL_ERROR_NUMBERS.has(n)) return true;
      // 40613's text, should the number not have been captured
      if (/is not currently available/i.test(message)) return true;
    }
    const nested: unknown[] = [o.originalError, o.cause];
    for (const key of ['precedingErrors', 'errors'] as const) if (Array.isArray(o[key])) nested.push(...(o[key] as unknown[]));
    return nested.some((n) => visit(n, depth + 1));
  };
  return visit(err, 0);
}

/** The first SQL Server error number and driver code in an error, for logs. */
function errorSummary(err: unknown): { number?: number; code?: string; name?: string } {
  const o = (err ?? {}) as Record<string, unknown>;
  const orig = (o.originalError ?? {}) as Record<string, unknown>;
  const number = sqlErrorNumber(err);
  const code = [o.code, orig.code].find((c): c is string => typeof c === 'string');
  const name = typeof o.name === 'string' ? o.name : undefined;
  return { ...(number !== undefined ? { number } : {}), ...(code ? { code } : {}), ...(name ? { name } : {}) };
}

export interface RetryPolicy {
  /** Give up once this much time has passed since the first attempt (a serverless resume takes up to ~1 min). */
  maxElapsedMs: number;
  /** First backoff; doubles per attempt up to `maxDelayMs`, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxElapsedMs: 150_000, baseDelayMs: 1_000, maxDelayMs: 15_000 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn`, retrying transient errors with exponential backoff and jitter within the policy's time budget. */
export async function withTransientRetry<T>(
  operation: string,
  fn: () => Promise<T>,
  opts: { policy?: RetryPolicy; log?: Log; loginErrorNumber?: LoginErrorLookup; wait?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const wait = opts.wait ?? sleep;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientSqlError(err, opts.loginErrorNumber)) throw err;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(backoff / 2 + Math.random() * (backoff / 2)); // "equal jitter"
      const elapsed = Date.now() - started;
      if (elapsed + delayMs > policy.maxElapsedMs) {
        opts.log?.error('SQL transient error: giving up', { operation, attempt, elapsedMs: elapsed, ...errorSummary(err) });
        throw err;
      }
      opts.log?.warn('SQL transient error: retrying', { operation, attempt, delayMs, ...errorSummary(err) });
      await wait(delayMs);
    }
  }
}

// ---- values in ------------------------------------------------------------------------------

/** Strings up to this length bind as NVARCHAR(4000) (one plan shape, index seeks); longer as NVARCHAR(MAX). */
const NVARCHAR_PARAM_LENGTH = 4000;

/** Binds one parameter with an explicit type (never mssql's guess from the JS value). */
function bindParam(req: Request, name: string, v: SqlValue | undefined): void {
  if (v === null || v === undefined) {
    req.input(name, sql.NVarChar(NVARCHAR_PARAM_LENGTH), null);
  } else if (typeof v === 'string') {
    req.input(name, v.length <= NVARCHAR_PARAM_LENGTH ? sql.NVarChar(NVARCHAR_PARAM_LENGTH) : sql.NVarChar(sql.MAX), v);
  } else if (typeof v === 'boolean') {
    req.input(name, sql.Bit, v);
  } else if (typeof v === 'bigint') {
    req.input(name, sql.BigInt, v);
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`SQL parameter @${name}: ${v} cannot be sent to SQL Server`);
    if (Number.isInteger(v)) req.input(name, sql.BigInt, v);
    else req.input(name, sql.Float, v);
  } else if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new Error(`SQL parameter @${name}: invalid Date`);
    req.input(name, sql.DateTime2(3), v);
  } else {
    throw new Error(`SQL parameter @${name}: unsupported value type ${typeof v}`);
  }
}

function bindAll(req: Request, params: SqlParams | undefined): Request {
  if (params) for (const [name, v] of Object.entries(params)) bindParam(req, name, v);
  return req;
}

// ---- values out -----------------------------------------------------------------------------

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function bigintToJs(text: string | bigint | number): number | bigint {
  if (typeof text === 'number') return text;
  const b = typeof text === 'bigint' ? text : BigInt(text);
  return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : b;
}

/** mssql gives DATE and DATETIME2 both as Date and BIGINT as a string: make them match DuckDB's. */
function normaliseValue(value: unknown, type: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === sql.Date && value instanceof Date) return value.toISOString().slice(0, 10);
  if (type === sql.BigInt && (typeof value === 'string' || typeof value === 'bigint')) return bigintToJs(value);
  return value;
}

function normaliseRows<T>(recordset: IRecordSet<Row>): T[] {
  const columns: IColumnMetadata = recordset.columns;
  return recordset.map((raw) => {
    const row: Row = {};
    for (const name of Object.keys(raw)) {
      const col = Object.hasOwn(columns, name) ? columns[name] : undefined;
      row[name] = col ? normaliseValue(raw[name], col.type) : raw[name];
    }
    return row as unknown as T;
  });
}

// ---- bulk values ----------------------------------------------------------------------------

/** The bulk-copy column type for a logical type (same mapping as `columnType('mssql', …)` in ddl.ts). */
export function bulkColumnType(t: LogicalType): ISqlType {
  switch (t.kind) {
    case 'string':
      return t.length ? sql.NVarChar(t.length) : sql.NVarChar(sql.MAX);
    case 'int':
      return sql.Int();
    case 'bigint':
      return sql.BigInt();
    case 'decimal':
      return sql.Decimal(t.precision, t.scale);
    case 'date':
      return sql.Date();
    case 'timestamp':
      return sql.DateTime2(3);
    case 'bool':
      return sql.Bit();
  }
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function utcDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date | undefined {
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  if (y < 100) date.setUTCFullYear(y); // Date.UTC maps years 0-99 to 1900-1999
  const ok =
    date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
  return ok ? date : undefined;
}

/** `YYYY-MM-DD` as midnight UTC (the driver writes the UTC date with `useUTC: true`). */
export function parseDateText(text: string): Date | undefined {
  const m = DATE_TEXT.exec(text.trim());
  return m ? utcDate(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

/** `YYYY-MM-DD HH:MM:SS.mmm` (or ISO 8601 with `T` / `Z` / an offset) as UTC; no zone means UTC. */
export function parseTimestampText(text: string): Date | undefined {
  const m = TIMESTAMP_TEXT.exec(text.trim());
  if (!m) return undefined;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-6) : 0;
  const date = utcDate(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
  if (!date) return undefined;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const offsetMin = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * (zm[1] === '-' ? -1 : 1);
    return new Date(date.getTime() - offsetMin * 60_000);
  }
  return date;
}

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function preview(v: unknown): string {
  let text: string;
  if (typeof v === 'bigint') text = `${v}n`;
  else if (v instanceof Date) text = v.toISOString();
  else text = JSON.stringify(v) ?? typeof v;
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Converts one value to what the driver writes for the column's type. Throws a clear error (table,
 * column, where) instead of letting bulk copy fail with a protocol error.
 */
export function toBulkValue(table: TableDef, col: ColumnDef, v: unknown, where: string): unknown {
  if (v === null || v === undefined) return null;
  const fail = (expected: string, shown = preview(v)): never => {
    throw new Error(`${table.schema}.${table.name}.${col.name} (${where}): expected ${expected}, got ${shown}`);
  };
  const t = col.type;
  switch (t.kind) {
    case 'string': {
      let s: string;
      if (typeof v === 'string') s = v;
      else if (v instanceof Date) s = v.toISOString();
      else if (typeof v === 'object') s = JSON.stringify(v); // a nested object or array is kept as JSON text
      else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') s = String(v);
      else return fail('a string');
      if (t.length && s.length > t.length) fail(`at most ${t.length} characters`, `${s.length} characters`);
      return s;
    }
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) fail('a 32-bit integer');
      return n;
    }
    case 'bigint': {
      let b: bigint | undefined;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
      else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) b = BigInt(v.trim());
      if (b === undefined || b < INT64_MIN || b > INT64_MAX) return fail('a 64-bit integer');
      return b;
    }
    case 'decimal': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'bigint' ? Number(v) : NaN;
      if (!Number.isFinite(n)) fail(`a decimal(${t.precision}, ${t.scale})`);
      return n;
    }
    case 'date': {
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? fail('a valid date') : new Date(Date.UTC(v.getUTCFullYear(), v.getUTCMonth(), v.getUTCDate()));
      const d = typeof v === 'string' ? parseDateText(v) : undefined;
      return d ?? fail("a date 'YYYY-MM-DD'");
    }
    case 'timestamp': {
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? fail('a valid timestamp') : v;
      const d = typeof v === 'string' ? parseTimestampText(v) : undefined;
      return d ?? fail("a timestamp 'YYYY-MM-DD HH:MM:SS.mmm' (UTC)");
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      if (v === 1 || v === 0) return v === 1;
      if (typeof v === 'string') {
        const s = v.trim().toLowerCase();
        if (s === 'true' || s === '1') return true;
        if (s === 'false' || s === '0') return false;
      }
      return fail('a boolean');
    }
  }
}

/** Splits a byte or text stream into lines (`\n` or `\r\n`), streaming, with backpressure. */
async function* readLines(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark
      first = false;
    }
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const p of parts) yield p.endsWith('\r') ? p.slice(0, -1) : p;
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

// ---- sessions -------------------------------------------------------------------------------

export interface MssqlOptions {
  /** What the bootstrap creates when missing (`domains/registry.ts`: WAREHOUSE_SCHEMA). */
  schema: WarehouseSchema;
  log?: Log;
  retry?: RetryPolicy;
  /** Run the bootstrap DDL even when the stored version matches (`npm run db:setup`: repairs a schema changed by hand). */
  forceBootstrap?: boolean;
  /** Rows per `request.bulk` call; memory is bounded by one batch. */
  bulkBatchSize?: number;
}

const DEFAULT_BULK_BATCH = 50_000;

/** What every statement goes through: outside a transaction a retry, inside one a mutex. */
type Runner = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

class MssqlSession implements SqlSession {
  constructor(
    protected readonly newRequest: () => Request,
    protected readonly runStatement: Runner,
    protected readonly bulkBatchSize: number,
  ) {}

  exec(sqlText: string, params?: SqlParams): Promise<number> {
    return this.runStatement('exec', async () => {
      const result = await bindAll(this.newRequest(), params).query(sqlText);
      return result.rowsAffected.reduce((a, b) => a + b, 0);
    });
  }

  // (a looser constraint than the interface's `T extends Row`, so row interfaces work too)
  query<T extends object = Row>(sqlText: string, params?: SqlParams): Promise<T[]> {
    return this.runStatement('query', async () => {
      const result = await bindAll(this.newRequest(), params).query<Row>(sqlText);
      // like DuckDB, the result of the last statement that returned rows
      const sets: IRecordSet<Row>[] = result.recordsets;
      const last = sets[sets.length - 1];
      return last ? normaliseRows<T>(last) : [];
    });
  }

  /** Bulk copy has no multi-file form: the parts load one after another (in the caller's transaction). */
  async loadJsonLinesMany(table: TableDef, parts: JsonLinesPart[]): Promise<number> {
    let rows = 0;
    for (const part of parts) rows += await this.loadJsonLines(table, await part.open(), part.constants);
    return rows;
  }

  async loadJsonLines(table: TableDef, lines: Readable, constants: Record<string, string> = {}): Promise<number> {
    for (const name of Object.keys(constants)) {
      if (!table.columns.some((c) => c.name === name)) throw new Error(`loadJsonLines: ${table.schema}.${table.name} has no column ${name} (given as a constant)`);
    }
    // constants are converted once; they win over keys of the same name in the lines
    const constantValues = new Map(
      table.columns.filter((c) => c.name in constants).map((c) => [c.name, toBulkValue(table, c, constants[c.name], 'constant')] as const),
    );
    let loaded = 0;
    let batch: unknown[][] = [];
    let lineNo = 0;
    for await (const line of readLines(lines)) {
      lineNo++;
      if (line.trim() === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        throw new Error(`loadJsonLines ${table.schema}.${table.name}: line ${lineNo} is not valid JSON (${(err as Error).message})`);
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`loadJsonLines ${table.schema}.${table.name}: line ${lineNo} is not a JSON object`);
      const record = obj as Record<string, unknown>;
      const where = `line ${lineNo}`;
      batch.push(table.columns.map((c) => (constantValues.has(c.name) ? constantValues.get(c.name) : toBulkValue(table, c, Object.hasOwn(record, c.name) ? record[c.name] : null, where))));
      if (batch.length >= this.bulkBatchSize) {
        loaded += await this.bulk(table, batch);
        batch = [];
      }
    }
    if (batch.length > 0) loaded += await this.bulk(table, batch);
    return loaded;
  }

  async appendRows(table: TableDef, rows: unknown[][]): Promise<number> {
    let loaded = 0;
    for (let start = 0; start < rows.length; start += this.bulkBatchSize) {
      const batch = rows.slice(start, start + this.bulkBatchSize).map((row, i) => {
        if (row.length !== table.columns.length) {
          throw new Error(`appendRows ${table.schema}.${table.name}: row ${start + i + 1} has ${row.length} values for ${table.columns.length} columns`);
        }
        return table.columns.map((c, j) => toBulkValue(table, c, row[j], `row ${start + i + 1}`));
      });
      loaded += await this.bulk(table, batch);
    }
    return loaded;
  }

  /** One bulk copy of already-converted rows. */
  protected bulk(table: TableDef, rows: unknown[][]): Promise<number> {
    return this.runStatement('bulk', async () => {
      const t = new sql.Table(`${table.schema}.${table.name}`);
      t.create = false;
      for (const c of table.columns) t.columns.add(c.name, bulkColumnType(c.type), { nullable: c.nullable });
      const target = t.rows as unknown as unknown[][];
      for (const r of rows) target.push(r);
      // keepNulls: a null stays null (not a column default); checkConstraints: CHECKs are honoured
      const result = await this.newRequest().bulk(t, { keepNulls: true, checkConstraints: true });
      return result.rowsAffected;
    });
  }
}

/** The session handed to `transaction(fn)`: one connection, one request at a time, no retries. */
class MssqlTransactionSession extends MssqlSession {
  private readonly state: { finished: boolean; mutex: Mutex };

  constructor(tx: Transaction, bulkBatchSize: number) {
    const state = { finished: false, mutex: new Mutex() };
    super(
      () => new sql.Request(tx),
      (operation, fn) =>
        state.mutex.run(() => {
          if (state.finished) throw new Error(`SQL ${operation} on a transaction that has already ended`);
          return fn();
        }),
      bulkBatchSize,
    );
    this.state = state;
  }

  /** Waits for requests still in flight, then refuses new ones. */
  async end(): Promise<void> {
    await this.state.mutex.idle();
    this.state.finished = true;
  }
}

// ---- the bootstrap ----------------------------------------------------------------------------

/** The application lock the bootstrap holds, so instances starting together do not race. */
export const BOOTSTRAP_LOCK_SQL = `DECLARE @r INT;
EXEC @r = sp_getapplock @Resource = N'company-activity-pipeline:bootstrap', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
IF @r < 0 THROW 50001, N'bootstrap: could not take the application lock within 60 s', 1;`;

async function storedVersion(tx: Transaction): Promise<string | undefined> {
  const result = await new sql.Request(tx).input('component', sql.NVarChar(NVARCHAR_PARAM_LENGTH), BOOTSTRAP_COMPONENT).query<{ ddl_sha256: string }>(readVersionSql('mssql'));
  return result.recordset?.[0]?.ddl_sha256;
}

/**
 * The bootstrap, in the caller's transaction: when `ops.schema_version` holds this code's version
 * (a hash of the DDL text), nothing else runs — no lock, no DDL, so the app's identity, which may
 * only read and write rows, starts fast. Otherwise, under an application lock: the batches
 * (schemas, tables, added columns, clustered indexes; each guarded, each its own T-SQL batch),
 * then the new version. Without DDL rights that fails with a permission error (262, …), which
 * `explainBootstrapFailure` turns into "run npm run db:setup".
 */
export async function bootstrapInTransaction(tx: Transaction, schema: WarehouseSchema, options: { force?: boolean } = {}): Promise<'current' | 'applied'> {
  const version = bootstrapVersion('mssql', schema);
  if (!options.force && (await storedVersion(tx)) === version) return 'current';
  await new sql.Request(tx).batch(BOOTSTRAP_LOCK_SQL);
  // another instance may have finished it while we waited for the lock
  if (!options.force && (await storedVersion(tx)) === version) return 'current';
  for (const batch of bootstrapBatches('mssql', schema)) await new sql.Request(tx).batch(batch);
  for (const statement of writeVersionSql()) {
    await bindAll(new sql.Request(tx), { component: BOOTSTRAP_COMPONENT, ddl_sha256: version, applied_at: new Date() }).query(statement);
  }
  return 'applied';
}

// ---- the warehouse ----------------------------------------------------------------------------

/** One credential per process (per managed identity): it caches its tokens. */
const credentials = new Map<string, TokenCredential>();

function sharedCredential(clientId: string | undefined): TokenCredential {
  const key = clientId ?? '';
  let credential = credentials.get(key);
  if (!credential) {
    credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    credentials.set(key, credential);
  }
  return credential;
}

/** Most connections one process (one Functions instance) opens; see poolConfig. */
export const POOL_MAX_PER_INSTANCE = 2;

/** Builds the mssql pool configuration from settings. Exported for tests; holds no secret unless SQL_AUTH=sql-password. */
export function poolConfig(settings: Settings): PoolConfig {
  if (!settings.SQL_SERVER || !settings.SQL_DATABASE) {
    throw new Error('WAREHOUSE_ENGINE=mssql needs SQL_SERVER (e.g. myserver.database.windows.net) and SQL_DATABASE');
  }
  const base: PoolConfig = {
    server: settings.SQL_SERVER,
    port: settings.SQL_PORT,
    database: settings.SQL_DATABASE,
    // Microsoft recommends at least 30 s to connect to Azure SQL
    connectionTimeout: 30_000,
    requestTimeout: settings.SQL_REQUEST_TIMEOUT_MS,
    // Per Functions instance. Flex Consumption scales each function group to 40 instances or more
    // (its lowest maximum), so 2 × 40 = 80 requests from one group at full scale stay below the
    // 150 workers of the smallest database the templates allow (2 vCores). Two, not one: a run's
    // history is written while a model's transaction holds the other connection.
    pool: { min: 0, max: POOL_MAX_PER_INSTANCE, idleTimeoutMillis: 30_000 },
    // check the socket on acquire instead of a SELECT 1 round trip per statement
    validateConnection: 'socket',
    options: {
      encrypt: settings.SQL_ENCRYPT === 'true',
      trustServerCertificate: settings.SQL_TRUST_SERVER_CERTIFICATE === 'true',
      useUTC: true,
      appName: 'company-activity-pipeline',
    },
  };
  if (settings.SQL_AUTH === 'sql-password') {
    if (!settings.SQL_USER || !settings.SQL_PASSWORD) throw new Error('SQL_AUTH=sql-password needs SQL_USER and SQL_PASSWORD');
    return { ...base, user: settings.SQL_USER, password: settings.SQL_PASSWORD };
  }
  return { ...base, authentication: { type: 'token-credential', options: { credential: sharedCredential(settings.AZURE_CLIENT_ID) } } };
}

/**
 * tedious turns a login error into `ConnectionError('…', 'ELOGIN')` without the server's error
 * number, so a paused database's 40613 would look permanent. This remembers the numbers of the
 * last few login errors by message text, captured from the connection's `errorMessage` events.
 */
class LoginErrors {
  private readonly byMessage = new Map<string, number>();
  record(message: string, number: number): void {
    this.byMessage.delete(message);
    this.byMessage.set(message, number);
    while (this.byMessage.size > 32) this.byMessage.delete(this.byMessage.keys().next().value!);
  }
  readonly lookup: LoginErrorLookup = (message) => this.byMessage.get(message);
}

export class MssqlWarehouse extends MssqlSession implements Warehouse {
  readonly engine = 'mssql' as const;

  private constructor(
    private readonly pool: ConnectionPool,
    private readonly retry: Runner,
    bulkBatchSize: number,
    private readonly state: { closed: boolean },
  ) {
    super(() => new sql.Request(pool), retry, bulkBatchSize);
  }

  /** Connects (retrying while the database resumes or fails over) and bootstraps schemas and tables. */
  static async open(settings: Settings, options: MssqlOptions): Promise<MssqlWarehouse> {
    const log = options.log ?? consoleLog('[mssql] ');
    const loginErrors = new LoginErrors();
    const config = poolConfig(settings);
    config.beforeConnect = (conn) => {
      let loggingIn = true;
      conn.once('connect', () => (loggingIn = false));
      conn.on('errorMessage', (token) => {
        if (loggingIn) loginErrors.record(token.message, token.number);
      });
    };
    const pool = new sql.ConnectionPool(config);
    // mssql emits 'error' on the pool when a connection fails outside a request: without a
    // listener that would crash the process. The failure also reaches the request concerned.
    pool.on('error', (err: unknown) => log.warn('SQL connection pool error', errorSummary(err)));

    const policy = options.retry ?? DEFAULT_RETRY;
    const state = { closed: false };
    // after close(), mssql answers ECONNCLOSED: fail at once instead of retrying a closed pool
    const ifOpen = <T>(operation: string, fn: () => Promise<T>) => () => {
      if (state.closed) return Promise.reject(new Error(`SQL ${operation}: the warehouse is closed`));
      return fn();
    };
    const retry = <T>(operation: string, fn: () => Promise<T>) =>
      withTransientRetry(operation, ifOpen(operation, fn), { policy, log, loginErrorNumber: loginErrors.lookup });

    await retry('connect', () => pool.connect());
    const wh = new MssqlWarehouse(pool, retry, options.bulkBatchSize ?? DEFAULT_BULK_BATCH, state);
    try {
      const outcome = await retry('bootstrap', () => wh.inTransaction((tx) => bootstrapInTransaction(tx, options.schema, { force: options.forceBootstrap }), false));
      log.info(outcome === 'current' ? 'SQL schema current: bootstrap skipped' : 'SQL schema bootstrapped', { version: bootstrapVersion('mssql', options.schema).slice(0, 12) });
    } catch (err) {
      await pool.close().catch(() => undefined);
      throw explainBootstrapFailure(err);
    }
    log.info('SQL warehouse open', { server: settings.SQL_SERVER, database: settings.SQL_DATABASE, auth: settings.SQL_AUTH });
    return wh;
  }

  /**
   * begin → fn → commit, or rollback and rethrow. `begin` is retried on its own (nothing has run
   * yet) unless the caller retries the whole unit.
   */
  private async inTransaction<T>(fn: (tx: Transaction) => Promise<T>, retryBegin = true): Promise<T> {
    const begin = async () => {
      const t = new sql.Transaction(this.pool);
      await t.begin();
      return t;
    };
    const tx = retryBegin ? await this.retry('begin transaction', begin) : await begin();
    try {
      const result = await fn(tx);
      await tx.commit();
      return result;
    } catch (err) {
      // fails with EABORT when the server already rolled back (XACT_ABORT, deadlock): nothing to undo
      await tx.rollback().catch(() => undefined);
      throw err;
    }
  }

  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.sessionTransaction(fn, true);
  }

  private sessionTransaction<T>(fn: (tx: SqlSession) => Promise<T>, retryBegin: boolean): Promise<T> {
    return this.inTransaction(async (tx) => {
      const session = new MssqlTransactionSession(tx, this.bulkBatchSize);
      try {
        return await fn(session);
      } finally {
        await session.end();
      }
    }, retryBegin);
  }

  /** All batches in one transaction: all rows or none. The stream cannot be replayed, so only `begin` is retried. */
  override loadJsonLines(table: TableDef, lines: Readable, constants?: Record<string, string>): Promise<number> {
    return this.transaction((tx) => tx.loadJsonLines(table, lines, constants));
  }

  /** All parts in one transaction: all rows or none. */
  override loadJsonLinesMany(table: TableDef, parts: JsonLinesPart[]): Promise<number> {
    return this.transaction((tx) => tx.loadJsonLinesMany(table, parts));
  }

  /** All batches in one transaction; the rows are in memory, so a transient failure re-runs the whole unit. */
  override appendRows(table: TableDef, rows: unknown[][]): Promise<number> {
    if (rows.length === 0) return Promise.resolve(0);
    return this.retry('append rows', () => this.sessionTransaction((tx) => tx.appendRows(table, rows), false));
  }

  async close(): Promise<void> {
    if (this.state.closed) return;
    this.state.closed = true;
    await this.pool.close();
  }
}
