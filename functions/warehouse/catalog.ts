/**
 * The typed table catalogue: the types a warehouse table is declared with, and the pipeline's own
 * `ops` tables. A domain's tables are declared with its sources (bronze, derived from each source's
 * contract) and its models (silver, gold); `domains/registry.ts` gathers them all into `ALL_TABLES`.
 * DDL for both engines, bulk-load column types and the not-null / unique checks all come from
 * these declarations, so a table is declared once. Table and column names in SQL built by code come
 * only from this allow-list, never from input.
 */
export type LogicalType =
  | { kind: 'string'; length?: number } // no length: unbounded (nvarchar(max))
  | { kind: 'int' }
  | { kind: 'bigint' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'bool' };

export interface ColumnDef {
  name: string;
  type: LogicalType;
  nullable: boolean;
  /**
   * Set on a column added to a table after warehouses with that table exist: the bootstrap adds
   * it where it is missing. Such a column must be nullable (existing rows get NULL).
   */
  addedLater?: true;
}

export interface TableDef {
  schema: 'bronze' | 'silver' | 'gold' | 'ops';
  name: string;
  columns: ColumnDef[];
  /** Unique key (also the primary key on SQL Server); checked by the data tests. */
  key?: string[];
  description: string;
}

export const string = (length?: number): LogicalType => (length ? { kind: 'string', length } : { kind: 'string' });
export const int: LogicalType = { kind: 'int' };
export const bigint: LogicalType = { kind: 'bigint' };
export const date: LogicalType = { kind: 'date' };
export const timestamp: LogicalType = { kind: 'timestamp' };
export const bool: LogicalType = { kind: 'bool' };
export const decimal = (precision: number, scale: number): LogicalType => ({ kind: 'decimal', precision, scale });

/** A nullable column. */
export const col = (name: string, type: LogicalType, nullable = true): ColumnDef => ({ name, type, nullable });
/** A NOT NULL column. */
export const req = (name: string, type: LogicalType): ColumnDef => col(name, type, false);
/** A column added after warehouses with its table exist (nullable; the bootstrap adds it). */
export const added = (name: string, type: LogicalType): ColumnDef => ({ name, type, nullable: true, addedLater: true });

/** Lineage carried by every bronze row: where it came from and when it arrived. */
export const BRONZE_LINEAGE: ColumnDef[] = [
  req('_source_file', string(1024)), // the file the row came from (landing path, or the API pull blob)
  req('_row_number', bigint), // its line in that file (1 = header for CSV)
  req('_ingested_at', timestamp), // when the ingester wrote it
  req('_bronze_file', string(1024)), // the bronze blob it was loaded from (the unit of reload)
];

/** The pipeline's own tables: runs, loads, requests, test results, leases. */
export const OPS_TABLES = {
  // ---- ops: how the pipeline ran --------------------------------------------------------------
  runs: {
    schema: 'ops',
    name: 'pipeline_runs',
    description: 'One row per trigger invocation (ingest or transform).',
    key: ['run_id'],
    columns: [
      req('run_id', string(64)),
      req('kind', string(64)),
      req('trigger_name', string(256)),
      req('status', string(16)), // running | succeeded | failed | skipped
      req('started_at', timestamp),
      col('finished_at', timestamp),
      col('duration_ms', bigint),
      col('rows_in', bigint),
      col('rows_out', bigint),
      col('rows_rejected', bigint),
      col('detail', string()),
      col('error', string()),
    ],
  },
  runSteps: {
    schema: 'ops',
    name: 'run_steps',
    description: 'One row per step of a run: a file load, a model build.',
    key: ['run_id', 'step_seq'],
    columns: [
      req('run_id', string(64)),
      req('step_seq', int),
      req('step_name', string(256)),
      req('status', string(16)),
      req('started_at', timestamp),
      col('finished_at', timestamp),
      col('duration_ms', bigint),
      col('rows_in', bigint),
      col('rows_out', bigint),
      col('detail', string()),
      col('error', string()),
      added('rows_rejected', bigint),
    ],
  },
  loadedFiles: {
    schema: 'ops',
    name: 'loaded_files',
    description: 'Bronze blobs loaded into the warehouse, with the etag loaded (a new etag reloads the file).',
    key: ['bronze_file'],
    columns: [
      req('bronze_file', string(1024)),
      req('source', string(64)),
      req('etag', string(128)),
      req('row_count', bigint),
      col('min_date', date),
      col('max_date', date),
      req('loaded_at', timestamp),
      req('run_id', string(64)),
    ],
  },
  fileIngests: {
    schema: 'ops',
    name: 'file_ingests',
    description: 'Every landed file the upload ingester saw: accepted, partly quarantined, rejected or duplicate.',
    key: ['content_sha256', 'landing_file'],
    columns: [
      req('content_sha256', string(64)),
      req('landing_file', string(1024)),
      req('source', string(64)),
      req('status', string(16)), // loaded | rejected | duplicate
      req('rows_total', bigint),
      req('rows_accepted', bigint),
      req('rows_quarantined', bigint),
      col('bronze_file', string(1024)),
      col('quarantine_file', string(1024)),
      col('reason', string()),
      req('ingested_at', timestamp),
      req('run_id', string(64)),
    ],
  },
  watermarks: {
    schema: 'ops',
    name: 'watermarks',
    description: 'Per pulled source: the last activity date safely written to bronze.',
    key: ['source'],
    columns: [req('source', string(64)), req('watermark_date', date), req('updated_at', timestamp), req('run_id', string(64))],
  },
  transformRequests: {
    schema: 'ops',
    name: 'transform_requests',
    description: 'Date ranges waiting for (or done by) a transform run; overlapping requests coalesce into one run.',
    key: ['request_id'],
    columns: [
      req('request_id', string(64)),
      req('source', string(64)),
      req('date_from', date),
      req('date_to', date),
      req('reason', string(256)),
      req('requested_at', timestamp),
      req('status', string(16)), // pending | done
      col('run_id', string(64)),
      added('selector', string(400)), // a rebuild of selected models (`npm run ops -- rerun --select …`); NULL: the source's descendants
    ],
  },
  dataTestResults: {
    schema: 'ops',
    name: 'data_test_results',
    description: 'One row per data test per run: its status, the count of failing rows and a sample of their keys.',
    key: ['run_id', 'test_id'],
    columns: [
      req('run_id', string(64)),
      req('test_id', string(400)), // `<table>:<test>`, stable across runs (row-count change compares by it)
      req('table_name', string(256)), // the table tested, schema-qualified
      req('stage', string(16)), // bronze | silver | gold
      req('test_type', string(32)), // not_null | unique | relationships | accepted_values | accepted_range | expression | freshness | row_count_change
      req('severity', string(8)), // error | warn: what a failure does
      req('status', string(8)), // pass | warn | error
      col('failing_rows', bigint),
      col('observed_value', decimal(19, 3)), // freshness: lag in hours; row_count_change: the row count
      col('sample_keys', string()), // JSON array of the first failing keys
      col('message', string()),
      col('date_from', date), // the dates tested (date-range models); NULL: the whole table
      col('date_to', date),
      req('checked_at', timestamp),
      req('duration_ms', bigint),
    ],
  },
  schemaDrift: {
    schema: 'ops',
    name: 'schema_drift',
    description: 'Schema drift seen in a source file: a new column, a missing optional column, a changed type.',
    key: ['run_id', 'source_file', 'drift_kind', 'column_name'],
    columns: [
      req('run_id', string(64)),
      req('source', string(64)),
      req('source_file', string(1024)), // landing file, or the API request of a pulled date
      req('drift_kind', string(32)), // new_column | missing_optional_column | changed_type
      req('column_name', string(256)),
      col('expected', string(64)), // declared type (changed_type)
      col('observed', string(256)), // what the file holds instead
      col('detail', string()),
      req('detected_at', timestamp),
    ],
  },
  leases: {
    schema: 'ops',
    name: 'leases',
    description: 'Named leases: one transform run at a time, on either engine.',
    key: ['lease_name'],
    columns: [req('lease_name', string(64)), col('owner', string(64)), col('expires_at', timestamp)],
  },
} satisfies Record<string, TableDef>;

