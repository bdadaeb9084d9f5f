/**
 * DDL for both engines, generated from the table catalogue, and the bootstrap script (schemas,
 * tables, added columns). `npm run sql:print` shows the T-SQL for a DBA to review. There are no
 * functions to create: engine differences are macros expanded when a model is rendered
 * (`macros.ts`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogicalType, TableDef } from './catalog.js';
import type { EngineName } from './warehouse.js';

export const SCHEMAS = ['bronze', 'silver', 'gold', 'ops', 'reporting'] as const;

/** The `sql/` folder: two levels up from this file in the source tree, three from `dist/`. */
export const SQL_DIR = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../sql'), path.resolve(here, '../../../sql')];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
})();

export function columnType(engine: EngineName, t: LogicalType): string {
  switch (t.kind) {
    case 'string':
      if (engine === 'duckdb') return 'VARCHAR';
      return t.length ? `NVARCHAR(${t.length})` : 'NVARCHAR(MAX)';
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
 * Whether the engine enforces the table's key as a PRIMARY KEY. SQL Server: always (a clustered
 * index that also serves the range deletes). DuckDB: only for the small `ops` tables — its index
 * makes bulk inserts ~5x and range deletes ~1000x slower (measured: 3.65 M rows, 7.8 s vs 1.5 s
 * to insert, 128 s vs 0.08 s to delete), so data tables have their keys checked by tests instead.
 */
export function enforcesKey(engine: EngineName, t: TableDef): boolean {
  return Boolean(t.key) && (engine === 'mssql' || t.schema === 'ops');
}

export function createTableSql(engine: EngineName, t: TableDef): string {
  const cols = t.columns.map((c) => `    ${c.name} ${columnType(engine, c.type)}${c.nullable ? '' : ' NOT NULL'}`);
  if (t.key && enforcesKey(engine, t)) cols.push(`    CONSTRAINT pk_${t.schema}_${t.name} PRIMARY KEY (${t.key.join(', ')})`);
  const body = `${t.schema}.${t.name} (\n${cols.join(',\n')}\n)`;
  if (engine === 'duckdb') return `CREATE TABLE IF NOT EXISTS ${body}`;
  return `IF OBJECT_ID(N'${t.schema}.${t.name}', N'U') IS NULL\nCREATE TABLE ${body}`;
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
    ...schema.views(engine).map((v) => createViewSql(engine, v)),
  ];
}
