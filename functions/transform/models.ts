/**
 * What a model is. A model builds one warehouse table: a SQL model from one file under
 * `sql/<domain>/` (the same text on both engines, macros expanded when rendered), a code model
 * from TypeScript (a calendar, a trained scoring model). Each is declared once, beside its
 * domain's others (`domains/<domain>/models.ts`), with its table, how it refreshes and its tests;
 * the tables it reads are derived from its SQL (`graph.ts`), so build order is never listed by hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../core/settings.js';
import { unionRange, type DateRange } from '../core/dates.js';
import { test, type DataTest } from '../quality/dataTests.js';
import type { ColumnDef, TableDef } from '../warehouse/catalog.js';
import { enforcesKey, SQL_DIR } from '../warehouse/ddl.js';
import { renderSql } from '../warehouse/macros.js';
import { splitStatements } from '../warehouse/sqlText.js';
import type { EngineName, SqlSession, SqlValue } from '../warehouse/warehouse.js';

/** Changed dates by table name (`bronze.product_usage`, `silver.dim_company`, …). */
export type Changes = ReadonlyMap<string, DateRange>;

/** A date far enough in the future to mean "up to the latest data" (models clip to their data). */
export const OPEN_END = '9999-12-31';
/** The earliest date a model may be asked to rebuild from: "everything". */
export const OPEN_START = '1900-01-01';
export const ALL_DATES: DateRange = { from: OPEN_START, to: OPEN_END };

/** The schemas a model may write. */
export type ModelSchema = 'silver' | 'gold';

/** What every model declares. */
interface ModelSpecBase {
  /** `<schema>.<table>`: the table it builds, and its name in selectors and run history. */
  name: `${ModelSchema}.${string}`;
  description: string;
  columns: ColumnDef[];
  /** Unique key (the primary key on SQL Server); its uniqueness is tested on every build. */
  key?: string[];
  /**
   * `full`: rebuilt whole when any table it reads changed; `date_range`: rebuilt for
   * `@date_from`..`@date_to` of `dateColumn`.
   */
  refresh: 'full' | 'date_range';
  dateColumn?: string;
  /**
   * The dates to rebuild given the changed dates of the tables it reads (only those), or undefined
   * to leave it alone this run. Default: the union of its parents' changes.
   */
  affectedDates?: (parentChanges: Changes, settings: Settings) => DateRange | undefined;
  /** Data tests run after each build, before it commits. */
  tests?: DataTest[];
  /** Physical design on SQL Server when its layer's rule does not fit (`TableDef.storage`): a large fact not named `fact_*`. */
  storage?: TableDef['storage'];
}

export interface SqlModelSpec extends ModelSpecBase {
  /** Path under `sql/<domain>/`. A variant `<name>.<engine>.sql` beside it wins when present. */
  file: string;
}

export interface CodeModelInput {
  /** The table it builds. */
  table: TableDef;
  range: DateRange;
  settings: Settings;
  engine: EngineName;
  now: Date;
}

export interface CodeModelSpec extends ModelSpecBase {
  /** The tables it reads (declared: there is no SQL to derive them from). */
  reads: string[];
  /** Builds the table in the given session (the model's transaction); returns the rows written. */
  build: (session: SqlSession, input: CodeModelInput) => Promise<{ rowsOut: number; detail?: unknown }>;
}

interface ModelDefBase {
  name: string;
  domain: string;
  description: string;
  table: TableDef;
  refresh: 'full' | 'date_range';
  dateColumn?: string;
  affectedDates(parentChanges: Changes, settings: Settings): DateRange | undefined;
  tests: DataTest[];
}

export interface SqlModelDef extends ModelDefBase {
  kind: 'sql';
  /** Path under `sql/`: `<domain>/<file>`. */
  file: string;
}

export interface CodeModelDef extends ModelDefBase, Pick<CodeModelSpec, 'reads' | 'build'> {
  kind: 'code';
}

export type ModelDef = SqlModelDef | CodeModelDef;
export type ModelSpec = (SqlModelSpec & { kind: 'sql' }) | (CodeModelSpec & { kind: 'code' });

/** Declares a SQL model (completed by its domain: `defineDomain`). */
export function sqlModel(spec: SqlModelSpec): ModelSpec {
  return { kind: 'sql', ...spec };
}

/** Declares a code model (completed by its domain: `defineDomain`). */
export function codeModel(spec: CodeModelSpec): ModelSpec {
  return { kind: 'code', ...spec };
}

/** Any change to what it reads, over the union of their dates. */
export function unionOfChanges(parentChanges: Changes): DateRange | undefined {
  let range: DateRange | undefined;
  for (const r of parentChanges.values()) range = unionRange(range, r);
  return range;
}

/** The table a model builds (for a relationships test that points at it, before its domain is complete). */
export function tableOf(spec: ModelSpec): TableDef {
  const [schema, tableName] = spec.name.split('.') as [ModelSchema, string];
  if (!tableName || !/^[a-z][a-z0-9_]*$/.test(tableName) || (schema !== 'silver' && schema !== 'gold')) {
    throw new Error(`model ${spec.name}: the name must be silver.<table> or gold.<table>, lower case`);
  }
  return { schema, name: tableName, columns: spec.columns, description: spec.description, ...(spec.key ? { key: spec.key } : {}), ...(spec.storage ? { storage: spec.storage } : {}) };
}

/** The model a spec declares, in its domain. */
export function completeModel(domain: string, spec: ModelSpec): ModelDef {
  const table = tableOf(spec);
  if (spec.refresh === 'date_range' && !spec.columns.some((c) => c.name === spec.dateColumn && c.type.kind === 'date')) {
    throw new Error(`model ${spec.name}: a date_range model needs dateColumn naming one of its DATE columns`);
  }
  const base: ModelDefBase = {
    name: spec.name,
    domain,
    description: spec.description,
    table,
    refresh: spec.refresh,
    ...(spec.dateColumn ? { dateColumn: spec.dateColumn } : {}),
    affectedDates: spec.affectedDates ?? unionOfChanges,
    tests: spec.tests ?? [],
  };
  if (spec.kind === 'code') return { ...base, kind: 'code', reads: spec.reads, build: spec.build };
  return { ...base, kind: 'sql', file: `${domain}/${spec.file}` };
}

/**
 * A model's tests as run: the uniqueness of its catalogue key — unless the engine enforces it as
 * a primary key (SQL Server; on DuckDB data tables carry no key index, see `enforcesKey`) — then
 * its declared tests.
 */
export function modelTests(model: ModelDef, engine: EngineName = 'duckdb'): DataTest[] {
  const key = model.table.key && !enforcesKey(engine, model.table) ? [test.unique(model.table.key)] : [];
  return [...key, ...model.tests];
}

export function modelSqlPath(model: SqlModelDef, engine: EngineName): string {
  const variant = path.join(SQL_DIR, model.file.replace(/\.sql$/, `.${engine}.sql`));
  return existsSync(variant) ? variant : path.join(SQL_DIR, model.file);
}

/** True for the statement of a model that writes its rows (`WITH … INSERT` or `INSERT`), not its `DELETE`. */
export function insertsRows(statement: string): boolean {
  return /^\s*(--[^\n]*\n\s*)*(WITH|INSERT)\b/i.test(statement);
}

/** Values a domain gives its models: `@parameters` and `{{ integer slots }}`. */
export interface ModelValues {
  parameters: Record<string, SqlValue>;
  slots: Record<string, number>;
}

/** The model's statements, exactly as they will run (macros expanded, slots filled, one per statement). */
export function renderModelSql(model: SqlModelDef, engine: EngineName, slots: Record<string, number>): string[] {
  const text = readFileSync(modelSqlPath(model, engine), 'utf8');
  try {
    return splitStatements(renderSql(text, engine, slots));
  } catch (err) {
    throw new Error(`sql/${model.file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
