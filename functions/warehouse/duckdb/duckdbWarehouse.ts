/**
 * The embedded engine: DuckDB in one local file. The local default and the engine of CI.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBConnection,
  DuckDBDateValue,
  DuckDBInstance,
  DuckDBTimestampValue,
  DuckDBTypeId,
  TIMESTAMP,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TableDef } from '../catalog.js';
import { BOOTSTRAP_COMPONENT, bootstrapBatches, bootstrapVersion, columnType, readVersionSql, writeVersionSql, type WarehouseSchema } from '../ddl.js';
import { parameterNames, splitStatements, toDuckDbParameters } from '../sqlText.js';
import type { JsonLinesPart, Row, SqlParams, SqlSession, SqlValue, Warehouse } from '../warehouse.js';
import { Mutex } from '../../core/mutex.js';

function bindValue(v: SqlValue): { value: DuckDBValue; type: DuckDBType } {
  if (v === null) return { value: null, type: VARCHAR };
  if (typeof v === 'string') return { value: v, type: VARCHAR };
  if (typeof v === 'boolean') return { value: v, type: BOOLEAN };
  if (typeof v === 'bigint') return { value: v, type: BIGINT };
  if (typeof v === 'number') return Number.isInteger(v) ? { value: BigInt(v), type: BIGINT } : { value: v, type: DOUBLE };
  return { value: new DuckDBTimestampValue(BigInt(v.getTime()) * 1000n), type: TIMESTAMP };
}

function bind(params: SqlParams | undefined): { values?: Record<string, DuckDBValue>; types?: Record<string, DuckDBType> } {
  if (!params || Object.keys(params).length === 0) return {};
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const [k, v] of Object.entries(params)) {
    const b = bindValue(v);
    values[k] = b.value;
    types[k] = b.type;
  }
  return { values, types };
}

/** Plain JS values: DATE as `YYYY-MM-DD`, TIMESTAMP as Date, safe BIGINTs as numbers. */
function normalise(value: unknown, typeId: DuckDBTypeId): unknown {
  if (value === null || value === undefined) return null;
  if (typeId === DuckDBTypeId.DATE && value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
  return value;
}

/** A scalar as text for the appender; anything else is a caller's mistake, said clearly. */
function asText(v: unknown, column: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  throw new Error(`appendRows: column ${column} got a value that is not a scalar: ${JSON.stringify(v)}`);
}

class DuckDbSession implements SqlSession {
  constructor(protected readonly conn: DuckDBConnection, protected readonly tempDir: string) {}

  async exec(sql: string, params?: SqlParams): Promise<number> {
    const { values, types } = bind(params);
    const result = await this.conn.run(toDuckDbParameters(sql), values, types);
    return result.rowsChanged;
  }

  async query<T extends object = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    const bound = bind(params);
    const reader = await this.conn.runAndReadAll(toDuckDbParameters(sql), bound.values, bound.types);
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.typeId);
    return reader.getRowsJS().map((values) => {
      const row: Row = {};
      names.forEach((n, i) => (row[n] = normalise(values[i], types[i]!)));
      return row as T;
    });
  }

  loadJsonLines(table: TableDef, lines: Readable, constants: Record<string, string> = {}): Promise<number> {
    return this.loadParts(table, [{ open: () => Promise.resolve(lines), constants }]);
  }

  loadJsonLinesMany(table: TableDef, parts: JsonLinesPart[]): Promise<number> {
    return this.loadParts(table, parts);
  }

  // Not overridden by the warehouse's locking wrappers, so both entry points can share it.
  private async loadParts(table: TableDef, parts: JsonLinesPart[]): Promise<number> {
    if (parts.length === 0) return 0;
    const constantNames = Object.keys(parts[0]!.constants);
    for (const p of parts) {
      if (Object.keys(p.constants).join() !== constantNames.join()) throw new Error(`loadJsonLinesMany ${table.schema}.${table.name}: every part must give the same constant columns`);
    }
    for (const name of constantNames) {
      if (!table.columns.some((c) => c.name === name)) throw new Error(`loadJsonLines: ${table.schema}.${table.name} has no column ${name} (given as a constant)`);
    }
    // The engine's own JSON reader is several times faster than parsing in JS; streams go to
    // temporary files first (DuckDB cannot read a Node stream), so memory stays flat, and one
    // INSERT reads them all: the per-statement cost is paid once, not once per file.
    await mkdir(this.tempDir, { recursive: true });
    const dir = await mkdtemp(path.join(this.tempDir, 'load-'));
    try {
      const files = parts.map((p, i) => p.path ?? path.join(dir, `part-${i}.jsonl`));
      let next = 0;
      const writer = async () => {
        for (let i = next++; i < parts.length; i = next++) if (!parts[i]!.path) await pipeline(await parts[i]!.open(), createWriteStream(files[i]!));
      };
      await Promise.all(Array.from({ length: Math.min(4, parts.length) }, writer));

      const fromFile = table.columns.filter((c) => !constantNames.includes(c.name));
      const columnsSpec = fromFile.map((c) => `${c.name}: '${columnType('duckdb', c.type)}'`).join(', ');
      const params: SqlParams = {};
      const fileList = files.map((f, i) => ((params[`file${i}`] = f), `$file${i}`)).join(', ');
      const selectList = table.columns.map((c) => (constantNames.includes(c.name) ? `k.${c.name}` : `r.${c.name}`)).join(', ');
      let sql =
        `INSERT INTO ${table.schema}.${table.name} (${table.columns.map((c) => c.name).join(', ')}) ` +
        `SELECT ${selectList} FROM read_json([${fileList}], format = 'newline_delimited', filename = '_load_file', columns = {${columnsSpec}}) r`;
      if (constantNames.length > 0) {
        // each file's constants, joined on the file the row was read from
        const rows = parts.map((p, i) => `($file${i}, ${constantNames.map((n, j) => ((params[`k${i}_${j}`] = p.constants[n]!), `$k${i}_${j}`)).join(', ')})`);
        sql += ` JOIN (VALUES ${rows.join(', ')}) k(_load_file, ${constantNames.join(', ')}) ON k._load_file = r._load_file`;
      }
      const { values, types } = bind(params);
      const result = await this.conn.run(sql, values, types);
      return result.rowsChanged;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async appendRows(table: TableDef, rows: unknown[][]): Promise<number> {
    if (rows.length === 0) return 0;
    const appender = await this.conn.createAppender(table.name, table.schema);
    try {
      for (const row of rows) {
        table.columns.forEach((c, i) => {
          const v = row[i];
          if (v === null || v === undefined) return appender.appendNull();
          switch (c.type.kind) {
            case 'string':
              return appender.appendVarchar(asText(v, c.name));
            case 'int':
              return appender.appendInteger(Number(v));
            case 'bigint':
              return appender.appendBigInt(BigInt(v as number));
            case 'bool':
              return appender.appendBoolean(Boolean(v));
            case 'decimal':
              return appender.appendDouble(Number(v));
            case 'date':
              return appender.appendDate(new DuckDBDateValue(Math.round(Date.parse(`${asText(v, c.name).slice(0, 10)}T00:00:00Z`) / 86_400_000)));
            case 'timestamp': {
              // timestamp text without a zone is UTC, like everything in the pipeline
              const text = asText(v, c.name);
              const ms = v instanceof Date ? v.getTime() : Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text.replace(' ', 'T')}Z`);
              return appender.appendTimestamp(new DuckDBTimestampValue(BigInt(ms) * 1000n));
            }
          }
        });
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    return rows.length;
  }
}

/** The bootstrap, skipped when the stored version matches, as on SQL Server (`bootstrapInTransaction`). */
async function bootstrap(conn: DuckDBConnection, schema: WarehouseSchema): Promise<void> {
  const version = bootstrapVersion('duckdb', schema);
  const component = { component: BOOTSTRAP_COMPONENT };
  const stored = async () => {
    const exists = await conn.runAndReadAll(`SELECT 1 FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'schema_version'`);
    if (exists.currentRowCount === 0) return undefined;
    const rows = (await conn.runAndReadAll(toDuckDbParameters(readVersionSql('duckdb')), component, { component: VARCHAR })).getRowsJS();
    return rows[0]?.[0];
  };
  if ((await stored()) === version) return;
  await conn.run('BEGIN TRANSACTION');
  try {
    for (const batch of bootstrapBatches('duckdb', schema)) for (const st of splitStatements(batch)) await conn.run(st);
    const params = { ...component, ddl_sha256: version, applied_at: new DuckDBTimestampValue(BigInt(Date.now()) * 1000n) };
    const types = { component: VARCHAR, ddl_sha256: VARCHAR, applied_at: TIMESTAMP };
    for (const st of writeVersionSql()) await conn.run(toDuckDbParameters(st), Object.fromEntries(parameterNames(st).map((n) => [n, params[n as keyof typeof params]])), Object.fromEntries(parameterNames(st).map((n) => [n, types[n as keyof typeof types]])));
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export class DuckDbWarehouse extends DuckDbSession implements Warehouse {
  readonly engine = 'duckdb' as const;
  private readonly mutex = new Mutex();

  private constructor(private readonly instance: DuckDBInstance, conn: DuckDBConnection, tempDir: string) {
    super(conn, tempDir);
  }

  /** Opens (creating if needed) the warehouse file and bootstraps its schemas, tables and views (skipped when `ops.schema_version` is current). */
  static async open(filePath: string, options: { schema: WarehouseSchema; memoryLimit?: string; threads?: number }): Promise<DuckDbWarehouse> {
    if (filePath !== ':memory:') await mkdir(path.dirname(path.resolve(filePath)), { recursive: true });
    const instance = await DuckDBInstance.create(filePath);
    const conn = await instance.connect();
    const tempDir = filePath === ':memory:' ? path.join(os.tmpdir(), 'pipeline-duckdb') : path.join(path.dirname(path.resolve(filePath)), 'tmp');
    const wh = new DuckDbWarehouse(instance, conn, tempDir);
    // Loads need not keep file order (every row carries its line number): lets DuckDB parallelise.
    await conn.run('SET preserve_insertion_order = false');
    // NULLs sort as on SQL Server, where NULL is the lowest value: first ascending, last descending
    // (DuckDB's default puts them last both ways), in ORDER BY, window orders and frames alike
    await conn.run(`SET default_null_order = 'nulls_first_on_asc_last_on_desc'`);
    // Settings values, validated by the settings schema; SET takes no parameters.
    if (options.memoryLimit) await conn.run(`SET memory_limit = '${options.memoryLimit.replace(/'/g, '')}'`);
    if (options.threads) await conn.run(`SET threads = ${Math.trunc(options.threads)}`);
    await bootstrap(conn, options.schema);
    return wh;
  }

  override exec(sql: string, params?: SqlParams): Promise<number> {
    return this.mutex.run(() => super.exec(sql, params));
  }
  override query<T extends object = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.mutex.run(() => super.query<T>(sql, params));
  }
  override loadJsonLines(table: TableDef, lines: Readable, constants?: Record<string, string>): Promise<number> {
    return this.mutex.run(() => super.loadJsonLines(table, lines, constants));
  }
  override loadJsonLinesMany(table: TableDef, parts: JsonLinesPart[]): Promise<number> {
    return this.mutex.run(() => super.loadJsonLinesMany(table, parts));
  }
  override appendRows(table: TableDef, rows: unknown[][]): Promise<number> {
    return this.mutex.run(() => super.appendRows(table, rows));
  }

  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const result = await fn(new DuckDbSession(this.conn, this.tempDir));
        await this.conn.run('COMMIT');
        return result;
      } catch (err) {
        await this.conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  close(): Promise<void> {
    return this.mutex.run(() => {
      this.conn.closeSync();
      this.instance.closeSync();
      return Promise.resolve();
    });
  }
}
