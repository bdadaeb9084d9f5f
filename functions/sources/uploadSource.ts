/**
 * What an uploaded (CSV) source is. A source declares its contract (`sources/contract.ts`) and
 * builds this from it with `csvUploadSource` (`sources/csvContract.ts`); adding a CSV source =
 * one contract file and one entry in its domain's `uploadSources` (plus its bronze table in the
 * catalogue, and its models).
 */
import type { SourceChecks } from '../quality/sourceChecks.js';
import type { IsoDate } from '../core/dates.js';
import type { TableDef } from '../warehouse/catalog.js';
import type { CsvEncoding } from '../ingest/csvRecords.js';
import type { ColumnSpecs, DateWindow, DriftFinding, SourceContract } from './contract.js';

/** A row that failed validation: the first field at fault and why. */
export interface RowProblem {
  field: string;
  reason: string;
}

export interface FileContext {
  /** UTC date the file arrived (its landing blob's creation date). */
  arrivalDate: IsoDate;
  /** Where dates and timestamps must lie (from the settings), relative to the arrival date. */
  window: DateWindow;
}

export interface AcceptedRow {
  /** Values for the bronze table's data columns (canonical text), by column name. */
  values: Record<string, string | number | boolean | null>;
  /** The business date the row is about (drives which dates the transform rebuilds). */
  businessDate: IsoDate;
}

/** One file being read against the contract, from its header on. */
export interface CsvFile {
  /** Required columns the header lacks: the file is rejected whole. */
  missingRequired: string[];
  /** Header names (normalised) that appear more than once: the file is rejected whole. */
  repeated: string[];
  /** Header columns the contract does not know, with their position; kept in bronze as `_extra_columns`. */
  extraColumns: { name: string; index: number }[];
  /** Validates one row: its fields in header order, exactly as many as the header has. */
  validateRow(fields: readonly string[]): AcceptedRow | RowProblem;
  /** Schema drift of the file over the rows validated so far: new and missing optional columns, changed types. */
  drift(): DriftFinding[];
}

export interface UploadSource {
  /** Source name: the landing folder, the bronze folder and the `source` in ops tables. */
  name: string;
  /** The declaration everything below is derived from. */
  contract: SourceContract<ColumnSpecs<FileContext>, FileContext>;
  /** Columns a file must have, by their header as written (compared trimmed and case-insensitively). */
  requiredColumns: readonly string[];
  /** Columns a file may have; any other column (but those the source ignores) is kept in bronze as `_extra_columns`. */
  optionalColumns: readonly string[];
  /** The columns that identify a row. */
  key: readonly string[];
  /** The date (or timestamp: its UTC date) column a row is about: which dates a loaded file affects. */
  businessDate: string;
  bronzeTable: TableDef;
  /** Freshness limits and the tests run after each load. */
  checks: SourceChecks;
  /** How its files are encoded (UTF-8 unless the source declares otherwise). */
  encoding: CsvEncoding;
  /** Starts reading a file, given its header names (trimmed, lower case). */
  openFile(header: readonly string[], file: FileContext): CsvFile;
}
