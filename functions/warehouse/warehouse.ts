/**
 * One interface over the two warehouse engines. Everything above this layer (loads, transforms,
 * ops records) is engine-agnostic; the SQL it sends is the portable subset described in
 * DESIGN.md, with `@name` parameters.
 */
import type { Readable } from 'node:stream';
import type { TableDef } from './catalog.js';

export type EngineName = 'duckdb' | 'mssql';

/** A parameter value. Whole numbers bind as BIGINT, `Date` as a timestamp, strings as text. */
export type SqlValue = string | number | bigint | boolean | Date | null;
export type SqlParams = Record<string, SqlValue>;
export type Row = Record<string, unknown>;

/** One input of a multi-file load: its lines (opened when needed) and its constant columns. */
export interface JsonLinesPart {
  open: () => Promise<Readable>;
  /** A local file holding the same lines, when there is one: engines that read files use it as is. */
  path?: string;
  constants: Record<string, string>;
}

export interface SqlSession {
  /** Runs one statement; returns the number of rows it changed (when the engine reports it). */
  exec(sql: string, params?: SqlParams): Promise<number>;
  /** Runs one query and returns its rows with plain JS values (dates as `YYYY-MM-DD`, bigints as numbers when safe). */
  query<T extends object = Row>(sql: string, params?: SqlParams): Promise<T[]>;
  /**
   * Bulk-loads newline-delimited JSON (one object per line, keys = column names) into a table,
   * streaming: memory does not grow with the input. `constants` fill columns absent from the lines.
   * Returns the rows loaded. Never row by row: DuckDB reads the file natively, SQL Server uses
   * bulk copy in batches.
   */
  loadJsonLines(table: TableDef, lines: Readable, constants?: Record<string, string>): Promise<number>;
  /**
   * `loadJsonLines` for many inputs at once, each with its own constants, in one statement where
   * the engine can (DuckDB reads all the files in one scan). Streams are opened one at a time, on
   * demand. Returns the rows loaded in all.
   */
  loadJsonLinesMany(table: TableDef, parts: JsonLinesPart[]): Promise<number>;
  /** Bulk-appends rows given as arrays in the table's column order. */
  appendRows(table: TableDef, rows: unknown[][]): Promise<number>;
}

export interface Warehouse extends SqlSession {
  readonly engine: EngineName;
  /** Runs `fn` in one transaction: all of it commits, or none of it. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
