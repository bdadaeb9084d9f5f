/**
 * A source contract applied to CSV files: the header check (required columns, repeats, new and
 * missing optional columns) and the row validation, both derived from the declaration, plus the
 * per-file counts that reveal a changed column type. Every value is text here; it is trimmed,
 * an empty one is null or a bad row (per `nullable`), anything else must parse as its type.
 *
 * The row check is plain functions built once per column, not a schema parse per row: it runs on
 * every row of every upload (measured the hot spot next to csv-parse).
 */
import type { SourceChecks } from '../quality/sourceChecks.js';
import type { IsoDate } from '../core/dates.js';
import type { TableDef } from '../warehouse/catalog.js';
import {
  columnBounds,
  duplicateKeyReason,
  exampleText,
  inferTextType,
  isChangedType,
  isValidDate,
  enumLookup,
  normaliseTimestamp,
  outsideBounds,
  parseBoolean,
  parseDecimal,
  textTooLong,
  TypeTally,
  typeName,
  UniqueKeys,
  type ColumnSpec,
  type ColumnBounds,
  type ColumnSpecs,
  type ColumnType,
  type DriftFinding,
  type RowOf,
  type SourceContract,
} from './contract.js';
import { csvBronzeTable } from './bronzeTable.js';
import type { CsvEncoding } from '../ingest/csvRecords.js';
import type { AcceptedRow, CsvFile, FileContext, RowProblem, UploadSource } from './uploadSource.js';

/** A value that failed its column: why, and whether it failed the type itself (not length, range). */
class Bad {
  constructor(
    readonly reason: string,
    readonly typeMismatch: boolean,
  ) {}
}

type Parse = (v: string) => string | number | boolean | Bad;

const INTEGER_TEXT = /^[+-]?\d+$/;

/** The parser of one column type for trimmed, non-empty text; dates and timestamps within `bounds`. */
function textParser(type: ColumnType, bounds: ColumnBounds | undefined): Parse {
  switch (type.kind) {
    case 'text': {
      const max = type.maxLength;
      return (v) => {
        const tooLong = textTooLong(v, max);
        return tooLong === undefined ? v : new Bad(tooLong, false);
      };
    }
    case 'date':
      return (v) => {
        if (!isValidDate(v)) return new Bad(`not a date as YYYY-MM-DD: "${v}"`, true);
        const outside = outsideBounds(v, bounds!, v);
        return outside === undefined ? v : new Bad(outside, false);
      };
    case 'timestamp':
      return (v) => {
        const utc = normaliseTimestamp(v);
        if (utc === undefined) return new Bad(`not an ISO 8601 date or date-time: "${v}"`, true);
        const outside = outsideBounds(utc, bounds!, v);
        return outside === undefined ? utc : new Bad(outside, false);
      };
    case 'decimal':
      return (v) => {
        const d = parseDecimal(v, type);
        if (d === undefined) return new Bad(`not a decimal number: "${v}"`, true);
        return 'reason' in d ? new Bad(d.reason, false) : d.text;
      };
    case 'boolean':
      return (v) => parseBoolean(v) ?? new Bad(`not true or false: "${v}"`, true);
    case 'enum': {
      const lookup = enumLookup(type.values);
      const allowed = type.values.map((x) => `"${x}"`).join(', ');
      return (v) => lookup(v) ?? new Bad(`not one of ${allowed}: "${v}"`, false);
    }
    case 'integer': {
      const { min, max } = type;
      return (v) => {
        if (!INTEGER_TEXT.test(v)) return new Bad(`not an integer: "${v}"`, true);
        const n = Number(v);
        if (!Number.isSafeInteger(n)) return new Bad(`integer out of range: "${v}"`, false);
        if (min !== undefined && n < min) return new Bad(`less than ${min}: ${n}`, false);
        if (max !== undefined && n > max) return new Bad(`greater than ${max}: ${n}`, false);
        return n;
      };
    }
  }
}

interface CompiledColumn {
  name: string;
  spec: ColumnSpec<FileContext>;
}

/** How a header name is compared: trimmed, lower case (the ingester normalises the file's header the same way). */
export function headerKey(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * An upload (CSV) source from its contract: the contract file exports the result and the
 * registry lists it. `businessDate` must be a non-nullable date or timestamp column (a
 * timestamp's UTC date: an incremental export's `updated_at`, a transaction's time).
 */
export function csvUploadSource<C extends ColumnSpecs<FileContext>>(
  contract: SourceContract<C, FileContext>,
  options: {
    /** Default: derived from the contract (`bronzeTable.ts`). */
    bronzeTable?: TableDef;
    businessDate: keyof C & string;
    checks: SourceChecks;
    /** How the files are encoded, when not UTF-8 (checked: a file that is not UTF-8 is rejected). */
    encoding?: CsvEncoding;
    /**
     * Header names of columns to drop: not landed, not `_extra_columns`, not schema drift (e.g. the
     * row index pandas writes first, headed `` or `Unnamed: 0`). Compared trimmed and
     * case-insensitively. A name the header repeats still rejects the file (which would be meant?).
     */
    ignoreColumns?: readonly string[];
  },
): UploadSource {
  const columns: CompiledColumn[] = Object.entries(contract.columns).map(([name, spec]) => ({ name, spec }));
  const business = contract.columns[options.businessDate];
  if (!business || (business.type.kind !== 'date' && business.type.kind !== 'timestamp') || business.nullable) {
    throw new Error(`${contract.source}: the business date "${options.businessDate}" must be a non-nullable date or timestamp column`);
  }
  // a timestamp lands as UTC text `YYYY-MM-DD HH:MM:SS.mmm`: its date is the first ten characters
  const businessDateOf = business.type.kind === 'timestamp' ? (v: string): IsoDate => v.slice(0, 10) : (v: string): IsoDate => v;
  if (business.optional && !business.whenAbsent) throw new Error(`${contract.source}: the optional business date "${options.businessDate}" needs a whenAbsent`);
  // the header a column is found under: its own name unless it declares another
  const headerOf = (c: CompiledColumn) => c.spec.header ?? c.name;
  const headerKeys = columns.map((c) => headerKey(headerOf(c)));
  const repeatedDeclaration = headerKeys.find((k, i) => headerKeys.indexOf(k) !== i);
  if (repeatedDeclaration !== undefined) throw new Error(`${contract.source}: two columns are read from the header "${repeatedDeclaration}"`);
  const ignored = new Set((options.ignoreColumns ?? []).map(headerKey));
  const clash = headerKeys.find((k) => ignored.has(k));
  if (clash !== undefined) throw new Error(`${contract.source}: "${clash}" is both a declared column and ignored`);
  const requiredColumns = columns.filter((c) => !c.spec.optional).map(headerOf);
  const optionalColumns = columns.filter((c) => c.spec.optional).map(headerOf);
  const known = new Set(headerKeys);
  // a bad value is reported under the column's header as the file writes it
  const shownAs = columns.map(headerOf);
  const shown = (name: string) => contract.columns[name]?.header ?? name;
  const rules = contract.rules ?? [];

  return {
    name: contract.source,
    // widened for the registry: the column names are no longer known statically there
    contract: contract as unknown as SourceContract<ColumnSpecs<FileContext>, FileContext>,
    requiredColumns,
    optionalColumns,
    key: contract.key,
    businessDate: options.businessDate,
    bronzeTable: options.bronzeTable ?? csvBronzeTable(contract, options.businessDate),
    checks: options.checks,
    encoding: options.encoding ?? 'utf-8',

    openFile(header: readonly string[], file: FileContext): CsvFile {
      const missingRequired = columns.filter((c, i) => !c.spec.optional && !header.includes(headerKeys[i]!)).map(headerOf);
      const repeated = [...new Set(header.filter((h, i) => header.indexOf(h) !== i))];
      const extraColumns = header
        .flatMap((name, index) => (known.has(name) || ignored.has(name) ? [] : [{ name, index }]))
        .filter((e, i, all) => all.findIndex((x) => x.name === e.name) === i);

      // Per column: where it is in the header (-1: absent), and what an absent one holds.
      const at = headerKeys.map((k) => header.indexOf(k));
      // dates and timestamps: from the earliest accepted to a few days after the file arrived
      const parsers = columns.map((c) => textParser(c.spec.type, columnBounds(c.spec.type, file.window, file.arrivalDate, 'the day the file arrived')));
      const absentValue = columns.map((c) => (c.spec.whenAbsent ? c.spec.whenAbsent(file) : null));
      const nonEmpty = new Array<number>(columns.length).fill(0);
      const typeFailures = new Array<number>(columns.length).fill(0);
      const observed = columns.map(() => new TypeTally());
      const examples = new Array<string | undefined>(columns.length);
      const extraExamples = new Array<string | undefined>(extraColumns.length);
      let extraPending = extraColumns.length;
      const keys = contract.duplicateKeys === 'reject' ? new UniqueKeys(contract.key) : undefined;
      const n = columns.length;

      const validateRow = (fields: readonly string[]): AcceptedRow | RowProblem => {
        if (extraPending > 0) {
          for (let e = 0; e < extraColumns.length; e++) {
            if (extraExamples[e] !== undefined) continue;
            const v = fields[extraColumns[e]!.index]?.trim();
            if (v) {
              extraExamples[e] = v;
              extraPending--;
            }
          }
        }
        const values: Record<string, string | number | boolean | null> = {};
        let problem: RowProblem | undefined;
        // Every column is checked, even after the first failure, so the type counts are whole.
        for (let c = 0; c < n; c++) {
          const col = columns[c]!;
          const i = at[c]!;
          if (i < 0) {
            values[col.name] = absentValue[c]!;
            continue;
          }
          const v = fields[i]!.trim();
          if (v === '') {
            if (col.spec.nullable) values[col.name] = null;
            else problem ??= { field: shownAs[c]!, reason: 'empty' };
            continue;
          }
          nonEmpty[c]!++;
          const parsed = parsers[c]!(v);
          if (parsed instanceof Bad) {
            if (parsed.typeMismatch) {
              typeFailures[c]!++;
              examples[c] ??= exampleText(v);
              observed[c]!.add(inferTextType(v));
            }
            problem ??= { field: shownAs[c]!, reason: parsed.reason };
            continue;
          }
          values[col.name] = parsed;
        }
        if (problem) return problem;
        const row = values as RowOf<C>;
        for (const rule of rules) {
          const reason = rule.check(row, file);
          if (reason !== undefined) return { field: shown(rule.field), reason };
        }
        if (keys && !keys.add(values)) return { field: shown(contract.key[0]!), reason: duplicateKeyReason(contract.key, values) };
        return { values, businessDate: businessDateOf(values[options.businessDate] as string) };
      };

      const drift = (): DriftFinding[] => {
        const findings: DriftFinding[] = [];
        extraColumns.forEach((e, i) => {
          const example = extraExamples[i];
          findings.push({
            kind: 'new_column',
            column: e.name,
            ...(example === undefined ? {} : { observed: inferTextType(example), example: exampleText(example) }),
            detail: `column "${e.name}" is not in the ${contract.source} contract; kept in bronze as _extra_columns${example === undefined ? '' : ` (e.g. ${JSON.stringify(exampleText(example))})`}`,
          });
        });
        columns.forEach((c, i) => {
          if (at[i]! >= 0 || !c.spec.optional) return;
          const value = absentValue[i];
          findings.push({
            kind: 'missing_optional_column',
            column: c.name,
            expected: typeName(c.spec.type),
            detail: `optional column "${c.name}" is not in the header; every row gets ${value === null || value === undefined ? 'null' : JSON.stringify(value)}`,
          });
        });
        columns.forEach((c, i) => {
          if (!isChangedType(typeFailures[i]!, nonEmpty[i]!)) return;
          const expected = typeName(c.spec.type);
          const seen = observed[i]!.top() ?? 'text';
          findings.push({
            kind: 'changed_type',
            column: c.name,
            expected,
            observed: seen,
            example: examples[i]!,
            detail: `${typeFailures[i]} of ${nonEmpty[i]} non-empty values of "${c.name}" are not ${expected} (mostly ${seen}, e.g. ${JSON.stringify(examples[i])}); those rows are quarantined`,
          });
        });
        return findings;
      };

      return { missingRequired, repeated, extraColumns, validateRow, drift };
    },
  };
}
