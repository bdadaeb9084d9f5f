/**
 * DDL for both engines, generated from the table catalogue, and the bootstrap script (schemas,
 * tables, added columns, clustered indexes). `npm run sql:print` shows the T-SQL for a DBA to
 * review. There are no functions to create: engine differences are macros expanded when a model
 * is rendered (`macros.ts`).
 *
 * Production strictness, derived from the catalogue so every new table gets it:
 * - text compares binary (case- and accent-sensitive) on SQL Server: every text column is
 *   declared `COLLATE Latin1_General_100_BIN2`, whatever the database default; DuckDB compares bytes;
 * - DuckDB refuses a text longer than its declared length, counted like SQL Server counts
 *   NVARCHAR(n): n UTF-16 code units (a CHECK constraint);
 * - keys and indexes fit SQL Server's limits (900 bytes clustered, 1700 nonclustered; tested).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPS_TABLES, type ColumnDef, type LogicalType, type TableDef } from './catalog.js';
import type { EngineName } from './warehouse.js';

export const SCHEMAS = ['bronze', 'silver', 'gold', 'ops', 'reporting'] as const;

/** The `sql/` folder: two levels up from this file in the source tree, three from `dist/`. */
export const SQL_DIR = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../sql'), path.resolve(here, '../../../sql')];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
})();

/**
 * The one text collation on SQL Server: binary, so case- and accent-sensitive like DuckDB's byte
 * comparison. BIN2, not BIN: BIN2 compares every character by its code (BIN only the first, then
 * bytes). `_100_` is the newest version with a BIN2 form. Trailing spaces still do not count for
 * `=` (SQL Server pads the shorter text, under every collation): the ingesters trim text instead.
 */
export const TEXT_COLLATION = 'Latin1_General_100_BIN2';

/** The column's type as declared in the engine's DDL (text with its collation on SQL Server). */
export function columnType(engine: EngineName, t: LogicalType): string {
  switch (t.kind) {
    case 'string':
      if (engine === 'duckdb') return 'VARCHAR';
      return `${t.length ? `NVARCHAR(${t.length})` : 'NVARCHAR(MAX)'} COLLATE ${TEXT_COLLATION}`;
    case 'int':
      return 'INT';
    case 'bigint':
      return 'BIGINT';
    case 'decimal':
      return `DECIMAL(${t.precision}, ${t.scale})`;
    case 'date':
      return 'DATE';
    case 'timestamp':
      return engine === 'duckdb' ? 'TIMESTAMP' : 'DATETIME2(3)';
    case 'bool':
      return engine === 'duckdb' ? 'BOOLEAN' : 'BIT';
  }
}

/**
 * DuckDB's check that a text fits its declared length as SQL Server counts it: n UTF-16 code
 * units, i.e. code points plus one more for each supplementary character (outside the BMP). UTF-8
 * never takes fewer bytes than UTF-16 code units, so `strlen` (bytes, no decoding) settles every
 * short value and the exact count runs only for values longer than n bytes. CASE, not OR: DuckDB
 * evaluates both sides of an OR here (measured, 3 M rows × 4 text columns: OR 24 s, CASE 0.63 s,
 * no check 0.48 s).
 */
export function lengthCheckSql(column: string, length: number): string {
  const exact = `length(${column}) + length(regexp_replace(${column}, '[^\\x{10000}-\\x{10FFFF}]', '', 'g')) <= ${length}`;
  return `CHECK (CASE WHEN strlen(${column}) <= ${length} THEN true ELSE ${exact} END)`;
}

/**
 * Whether the engine enforces the table's key as a PRIMARY KEY. SQL Server: always. DuckDB: only
 * for the small `ops` tables — its index makes bulk inserts ~5x and range deletes ~1000x slower
 * (measured: 3.65 M rows, 7.8 s vs 1.5 s to insert, 128 s vs 0.08 s to delete), so data tables
 * have their keys checked by tests instead, and carry no index at all.
 */
export function enforcesKey(engine: EngineName, t: TableDef): boolean {
  return Boolean(t.key) && (engine === 'mssql' || t.schema === 'ops');
}

/** An index as the engine's DDL creates it. `columnstore` has no key (and no key size limit). */
export interface IndexDef {
  name: string;
  kind: 'clustered' | 'nonclustered' | 'columnstore';
  columns: string[];
  /** Columns stored in the leaf level only (`INCLUDE`): no part of the key, not counted in its size. */
  include?: string[];
  /** The table's primary key (unique), or a plain index. */
  primaryKey: boolean;
}

/**
 * The table's indexes on an engine, derived from its layer (docs/azure-sql.md):
 * - SQL Server, bronze (rows with `_bronze_file`): clustered on `_bronze_file`, the unit every
 *   reload deletes and every lineage lookup reads; not unique, no primary key (bronze has no key).
 *   With its source's business date (`source`): a nonclustered index on that date, the source's key
 *   included, for the models' date-range reads (`updated_at >= @date_from AND …`) and the id sets
 *   they build from them, which otherwise scan every version ever loaded.
 * - SQL Server, gold facts (`fact_*`) or `storage: 'columnstore'`: clustered columnstore (they are
 *   read by date range and aggregated, and rebuilt by delete-and-insert of date ranges), the key a
 *   nonclustered primary key.
 * - SQL Server, any other table with a key: the clustered primary key (silver facts declare the
 *   date first, so a range rebuild deletes and inserts contiguous rows).
 * - DuckDB: the primary key of `ops` tables only (`enforcesKey`).
 */
export function tableIndexes(engine: EngineName, t: TableDef): IndexDef[] {
  const pk = (kind: IndexDef['kind']): IndexDef[] => (t.key && enforcesKey(engine, t) ? [{ name: `pk_${t.schema}_${t.name}`, kind, columns: t.key, primaryKey: true }] : []);
  if (engine === 'duckdb') return pk('clustered');
  if (physicalDesign(t) === 'columnstore') return [{ name: `cci_${t.schema}_${t.name}`, kind: 'columnstore', columns: [], primaryKey: false }, ...pk('nonclustered')];
  const clusteredBy = t.clusteredBy ?? (t.columns.some((c) => c.name === '_bronze_file') && !t.key ? ['_bronze_file'] : undefined);
  if (clusteredBy) return [{ name: `cx_${t.schema}_${t.name}`, kind: 'clustered', columns: clusteredBy, primaryKey: false }, ...pk('nonclustered'), ...businessDateIndex(t)];
  return [...pk('clustered'), ...businessDateIndex(t)];
}

/** SQL Server: a bronze table's index on its source's business date, the source's key included. */
function businessDateIndex(t: TableDef): IndexDef[] {
  if (!t.source) return [];
  const { businessDate, key } = t.source;
  const include = key.filter((c) => c !== businessDate);
  return [{ name: `ix_${t.schema}_${t.name}_${businessDate}`, kind: 'nonclustered', columns: [businessDate], ...(include.length ? { include } : {}), primaryKey: false }];
}

/** How a table is stored on SQL Server: the explicit `storage`, else columnstore for gold facts. */
export function physicalDesign(t: TableDef): 'rowstore' | 'columnstore' {
  return t.storage ?? (t.schema === 'gold' && t.name.startsWith('fact_') ? 'columnstore' : 'rowstore');
}

/** The most bytes a column takes in an index key (SQL Server: NVARCHAR(n) is 2n; DuckDB: UTF-8, up to 3 bytes a code unit). */
export function columnKeyBytes(engine: EngineName, c: ColumnDef): number {
  const t = c.type;
  switch (t.kind) {
    case 'string':
      if (!t.length) return Infinity;
      return engine === 'mssql' ? 2 * t.length : 3 * t.length;
    case 'int':
      return 4;
    case 'bigint':
      return 8;
    case 'decimal':
      return t.precision <= 9 ? 5 : t.precision <= 19 ? 9 : t.precision <= 28 ? 13 : 17;
    case 'date':
      return engine === 'mssql' ? 3 : 4;
    case 'timestamp':
      return 8;
    case 'bool':
      return 1;
  }
}

/** SQL Server's limits on an index key, in bytes; DuckDB has none. */
export const KEY_BYTE_LIMITS: Record<EngineName, Partial<Record<IndexDef['kind'], number>>> = {
  mssql: { clustered: 900, nonclustered: 1700 },
  duckdb: {},
};

export function indexKeyBytes(engine: EngineName, t: TableDef, index: IndexDef): number {
  return index.columns.reduce((sum, name) => {
    const c = t.columns.find((col) => col.name === name);
    if (!c) throw new Error(`${t.schema}.${t.name}: index ${index.name} names no column ${name}`);
    return sum + columnKeyBytes(engine, c);
  }, 0);
}

export function createTableSql(engine: EngineName, t: TableDef): string {
  const cols = t.columns.map((c) => {
    const check = engine === 'duckdb' && c.type.kind === 'string' && c.type.length ? ` ${lengthCheckSql(c.name, c.type.length)}` : '';
    return `    ${c.name} ${columnType(engine, c.type)}${c.nullable ? '' : ' NOT NULL'}${check}`;
  });
  const pk = tableIndexes(engine, t).find((i) => i.primaryKey);
  if (pk) cols.push(`    CONSTRAINT ${pk.name} PRIMARY KEY${engine === 'mssql' ? (pk.kind === 'clustered' ? ' CLUSTERED' : ' NONCLUSTERED') : ''} (${pk.columns.join(', ')})`);
  const body = `${t.schema}.${t.name} (\n${cols.join(',\n')}\n)`;
  if (engine === 'duckdb') return `CREATE TABLE IF NOT EXISTS ${body}`;
  return `IF OBJECT_ID(N'${t.schema}.${t.name}', N'U') IS NULL\nCREATE TABLE ${body}`;
}

/**
 * SQL Server: the clustered index that is not the primary key (bronze, columnstore), created where
 * the table has none yet (`index_id = 1` is the clustered index of either kind). A table created by
 * an earlier version as a heap gets it; one already clustered otherwise is left as it is.
 */
export function createClusteredIndexSql(engine: EngineName, t: TableDef): string[] {
  if (engine !== 'mssql') return [];
  const target = `${t.schema}.${t.name}`;
  return tableIndexes(engine, t)
    .filter((i) => !i.primaryKey && i.kind !== 'nonclustered')
    .map((i) => {
      const create = i.kind === 'columnstore' ? `CREATE CLUSTERED COLUMNSTORE INDEX ${i.name} ON ${target}` : `CREATE CLUSTERED INDEX ${i.name} ON ${target} (${i.columns.join(', ')})`;
      return `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'${target}') AND index_id = 1)\n${create}`;
    });
}

/**
 * SQL Server: the nonclustered indexes that are not the primary key (a bronze table's business
 * date), each created where the table has no index of its name yet.
 */
export function createSecondaryIndexSql(engine: EngineName, t: TableDef): string[] {
  if (engine !== 'mssql') return [];
  const target = `${t.schema}.${t.name}`;
  return tableIndexes(engine, t)
    .filter((i) => !i.primaryKey && i.kind === 'nonclustered')
    .map(
      (i) =>
        `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'${target}') AND name = N'${i.name}')\n` +
        `CREATE NONCLUSTERED INDEX ${i.name} ON ${target} (${i.columns.join(', ')})${i.include ? ` INCLUDE (${i.include.join(', ')})` : ''}`,
    );
}

/**
 * Adds the `addedLater` columns a table created by an earlier version lacks (a no-op where they
 * exist): additive changes need no migration step of their own.
 */
export function addLaterColumnsSql(engine: EngineName, t: TableDef): string[] {
  return t.columns
    .filter((c) => c.addedLater)
    .map((c) => {
      if (!c.nullable) throw new Error(`${t.schema}.${t.name}.${c.name}: a column added later must be nullable`);
      const type = columnType(engine, c.type);
      if (engine === 'duckdb') return `ALTER TABLE ${t.schema}.${t.name} ADD COLUMN IF NOT EXISTS ${c.name} ${type}`;
      return `IF COL_LENGTH(N'${t.schema}.${t.name}', N'${c.name}') IS NULL\nALTER TABLE ${t.schema}.${t.name} ADD ${c.name} ${type} NULL`;
    });
}

/**
 * Drops the NOT NULL of the `nullableLater` columns where an earlier version's table still has it
 * (a no-op where it is gone): relaxing a column needs no migration step of its own either.
 */
export function relaxLaterColumnsSql(engine: EngineName, t: TableDef): string[] {
  return t.columns
    .filter((c) => c.nullableLater)
    .map((c) => {
      if (!c.nullable || t.key?.includes(c.name)) throw new Error(`${t.schema}.${t.name}.${c.name}: a relaxed column must be nullable and outside the key`);
      const target = `${t.schema}.${t.name}`;
      if (engine === 'duckdb') return `ALTER TABLE ${target} ALTER COLUMN ${c.name} DROP NOT NULL`;
      return (
        `IF EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(N'${target}') AND name = N'${c.name}' AND is_nullable = 0)
` +
        `ALTER TABLE ${target} ALTER COLUMN ${c.name} ${columnType(engine, c.type)} NULL`
      );
    });
}

export function createSchemaSql(engine: EngineName, schema: string): string {
  if (engine === 'duckdb') return `CREATE SCHEMA IF NOT EXISTS ${schema}`;
  return `IF SCHEMA_ID(N'${schema}') IS NULL EXEC(N'CREATE SCHEMA ${schema}')`;
}

/** A view as the bootstrap creates it: its name and its SELECT, already rendered for the engine. */
export interface ViewSql {
  name: string;
  select: string;
}

/** What the bootstrap creates: every table, and the views over them (in an order where each view follows what it reads). */
export interface WarehouseSchema {
  tables: readonly TableDef[];
  views: (engine: EngineName) => ViewSql[];
}

/** Creates or replaces a view; its definition is the code's on every bootstrap. */
export function createViewSql(engine: EngineName, view: ViewSql): string {
  return engine === 'mssql' ? `CREATE OR ALTER VIEW ${view.name} AS\n${view.select}` : `CREATE OR REPLACE VIEW ${view.name} AS\n${view.select}`;
}

/** The bootstrap as a list of single-statement batches, in order; each is idempotent. */
export function bootstrapBatches(engine: EngineName, schema: WarehouseSchema): string[] {
  const { tables } = schema;
  return [
    ...SCHEMAS.map((s) => createSchemaSql(engine, s)),
    ...tables.map((t) => createTableSql(engine, t)),
    ...tables.flatMap((t) => addLaterColumnsSql(engine, t)),
    ...tables.flatMap((t) => relaxLaterColumnsSql(engine, t)),
    ...tables.flatMap((t) => createClusteredIndexSql(engine, t)),
    ...tables.flatMap((t) => createSecondaryIndexSql(engine, t)),
    ...schema.views(engine).map((v) => createViewSql(engine, v)),
  ];
}

// ---- the version marker ----------------------------------------------------------------------

/** The row of `ops.schema_version` the bootstrap writes. */
export const BOOTSTRAP_COMPONENT = 'bootstrap';

/**
 * The bootstrap's version: a hash of its DDL text. Stored in `ops.schema_version` once the DDL
 * has run; an open that finds the same hash runs no DDL at all (no lock, no DDL right needed).
 */
export function bootstrapVersion(engine: EngineName, schema: WarehouseSchema): string {
  return createHash('sha256').update(bootstrapBatches(engine, schema).join('\n;\n'), 'utf8').digest('hex');
}

/** The stored version, or no row (also when the marker table does not exist yet). */
export function readVersionSql(engine: EngineName): string {
  const t = OPS_TABLES.schemaVersion;
  const select = `SELECT ddl_sha256 FROM ${t.schema}.${t.name} WHERE component = @component`;
  if (engine === 'duckdb') return select; // the caller checks that the table exists
  return `IF OBJECT_ID(N'${t.schema}.${t.name}', N'U') IS NOT NULL\n${select}`;
}

/** Replaces the stored version (in the bootstrap's transaction). */
export function writeVersionSql(): string[] {
  const t = OPS_TABLES.schemaVersion;
  return [
    `DELETE FROM ${t.schema}.${t.name} WHERE component = @component`,
    `INSERT INTO ${t.schema}.${t.name} (component, ddl_sha256, applied_at) VALUES (@component, @ddl_sha256, @applied_at)`,
  ];
}
