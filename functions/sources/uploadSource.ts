/**
 * What an uploaded (CSV) source declares. Adding a CSV source = one contract file implementing
 * this, one entry in `sources/registry.ts`, one bronze table in the catalogue, and its models.
 */
import type { IsoDate } from '../core/dates.js';
import type { TableDef } from '../warehouse/catalog.js';

/** A row that failed validation: the first field at fault and why. */
export interface RowProblem {
  field: string;
  reason: string;
}

export interface FileContext {
  /** UTC date the file arrived (its landing blob's creation date). */
  arrivalDate: IsoDate;
}

export interface AcceptedRow {
  /** Values for the bronze table's data columns (canonical text), by column name. */
  values: Record<string, string | number | null>;
  /** The business date the row is about (drives which dates the transform rebuilds). */
  businessDate: IsoDate;
}

export interface UploadSource {
  /** Source name: the landing folder, the bronze folder and the `source` in ops tables. */
  name: string;
  /** Columns a file must have (header names compared trimmed and case-insensitively). */
  requiredColumns: readonly string[];
  /** Columns a file may have; any other column is kept in bronze as `_extra_columns`. */
  optionalColumns: readonly string[];
  bronzeTable: TableDef;
  /** Validates one record given as normalised-header → raw value. */
  validateRow(record: Record<string, string>, file: FileContext): AcceptedRow | RowProblem;
}
