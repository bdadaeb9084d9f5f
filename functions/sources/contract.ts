/**
 * Source contracts: what a source declares, in one place — its columns with logical types,
 * which must be present, which may be empty, its key, and the extra rules that make a row bad.
 * Row validation (CSV: `csvContract.ts`, JSON records: `jsonContract.ts`) and schema-drift
 * detection are derived from the declaration, so the two cannot drift apart.
 *
 * A row is bad when a value does not parse as its column's type or breaks its length or range,
 * when a column that is not `nullable` is empty, when a rule fails, or (with
 * `duplicateKeys: 'reject'`) when its key was already seen in the same file.
 */
import { addDays, isIsoDate, type IsoDate } from '../core/dates.js';
import { sqlTimestampText } from '../core/context.js';

/**
 * Where a date or timestamp column's accepted values lie, when it declares no window of its own:
 * not before `earliest`, not after `maxDaysAhead` days past the file's arrival (uploads) or the
 * requested date (API). From the settings INGEST_EARLIEST_DATE and INGEST_MAX_DAYS_AHEAD.
 */
export interface DateWindow {
  readonly earliest: IsoDate;
  readonly maxDaysAhead: number;
}

/** A column's own window (e.g. a birth date before 2000, a renewal date months ahead); unset parts come from the settings. */
export interface OwnWindow {
  readonly earliest?: IsoDate;
  readonly maxDaysAhead?: number;
}

/** The logical type of a column. */
export type ColumnType =
  /**
   * Any text up to `maxLength` characters, counted in code points (an emoji is one). Its warehouse
   * columns must hold 2 × maxLength UTF-16 units: SQL Server's NVARCHAR(n) counts those.
   */
  | { readonly kind: 'text'; readonly maxLength: number }
  /** A whole number, optionally bounded. JSON: a number; CSV: digits with an optional sign. */
  | { readonly kind: 'integer'; readonly min?: number; readonly max?: number }
  /** A real calendar date as `YYYY-MM-DD`, within the date window. */
  | ({ readonly kind: 'date' } & OwnWindow)
  /**
   * An ISO 8601 date or date-time, with `Z` or an offset (none means UTC); lands as UTC text
   * `YYYY-MM-DD HH:MM:SS.mmm`. In UTC, within the date window (any time of its last day).
   */
  | ({ readonly kind: 'timestamp' } & OwnWindow)
  /**
   * An exact decimal with at most `precision` digits, `scale` of them after the point (SQL's
   * DECIMAL(p, s)); CSV: `-12.50`, JSON: a number or such a string. Lands as its text, never
   * through a binary float.
   */
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number; readonly min?: number; readonly max?: number }
  /** true / false; CSV also 1 / 0, yes / no, y / n (any case). Lands as true or false. */
  | { readonly kind: 'boolean' }
  /** One of the declared values, matched case-insensitively; lands as declared. */
  | { readonly kind: 'enum'; readonly values: readonly string[] };

export const text = (maxLength: number) => ({ kind: 'text', maxLength }) as const;
export const integer = (range: { min?: number; max?: number } = {}) => ({ kind: 'integer', ...range }) as const;
export const date = { kind: 'date' } as const;
export const timestamp = { kind: 'timestamp' } as const;
export const decimal = (precision: number, scale: number, range: { min?: number; max?: number } = {}) => {
  if (!Number.isInteger(precision) || !Number.isInteger(scale) || precision < 1 || precision > 38 || scale < 0 || scale > precision) {
    throw new Error(`decimal(${precision}, ${scale}): precision 1–38, scale 0–precision`);
  }
  return { kind: 'decimal', precision, scale, ...range } as const;
};
export const boolean = { kind: 'boolean' } as const;
export const oneOf = <const V extends readonly string[]>(...values: V) => ({ kind: 'enum', values }) as const;
/** A date or timestamp type with its own window instead of the settings'. */
export const within = <T extends { readonly kind: 'date' | 'timestamp' }>(type: T, own: OwnWindow): T & OwnWindow => ({ ...type, ...own });

/** Largest value of SQL Server's INT (and DuckDB's INTEGER). */
export const MAX_INT32 = 2_147_483_647;

/** How a type is named in reasons and drift records: `text(100)`, `integer`, `date`, `timestamp`. */
export function typeName(type: ColumnType): string {
  switch (type.kind) {
    case 'text':
      return `text(${type.maxLength})`;
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    default:
      return type.kind;
  }
}

export interface ColumnSpec<Ctx = unknown> {
  type: ColumnType;
  /**
   * CSV: the column's header when it is written differently from its name (`Customer ID` for
   * `customer_id`). Matched as written, spaces included, after trimming and case-insensitively like
   * every header name; the column lands in bronze under its name. Default: the name.
   */
  header?: string;
  /** The column may be absent from a file (CSV header) or a record (JSON). Default: required. */
  optional?: boolean;
  /** An empty value (empty text, JSON null) is allowed and lands as null. Default: an empty value makes the row bad. */
  nullable?: boolean;
  /** The value every row gets when an optional column is absent from a CSV file (default, and for JSON records: null). */
  whenAbsent?: (ctx: Ctx) => string | number;
  description: string;
}

/** Columns by name, in the order they are checked (the first failing one is reported). */
export type ColumnSpecs<Ctx = unknown> = Record<string, ColumnSpec<Ctx>>;

type ValueOf<S> = S extends { type: { kind: 'integer' } } ? number : S extends { type: { kind: 'boolean' } } ? boolean : S extends { type: { kind: 'enum'; values: readonly (infer V)[] } } ? V : string;
type EmptyOf<S> = S extends { nullable: true } ? null : S extends { optional: true } ? (S extends { whenAbsent: (ctx: never) => unknown } ? never : null) : never;

/** The validated row a contract yields: each column as its type (null where empty is allowed or an optional column is absent). */
export type RowOf<C> = { -readonly [K in keyof C]: ValueOf<C[K]> | EmptyOf<C[K]> };

/** An extra rule on a row whose columns are all valid: the reason it is bad, or undefined. */
export interface RowRule<Row, Ctx> {
  /** The field a failure is reported on. */
  field: string;
  description: string;
  check(row: Row, ctx: Ctx): string | undefined;
}

export interface SourceContract<C extends ColumnSpecs<Ctx>, Ctx> {
  /** Source name: landing / bronze / quarantine folder and `source` in ops tables. */
  source: string;
  columns: C;
  /** The columns that identify a row. */
  key: readonly (keyof C & string)[];
  /**
   * What a repeated key within one file means: `keep` (every row lands; the transform keeps the
   * file's last row per key) or `reject` (the first row is kept, later ones are bad rows).
   */
  duplicateKeys: 'keep' | 'reject';
  rules?: readonly RowRule<RowOf<C>, Ctx>[];
}

/**
 * Declares a contract, fixing the context type its defaults and rules see (CSV uploads: the
 * file's arrival date; the usage API: the requested date) and keeping the literal column types.
 */
export function defineContract<Ctx>() {
  return <const C extends ColumnSpecs<Ctx>>(contract: SourceContract<C, Ctx>): SourceContract<C, Ctx> => contract;
}

// ---- schema drift ---------------------------------------------------------------------------

export type DriftKind = 'new_column' | 'missing_optional_column' | 'changed_type';

/** One schema-drift finding in one file (or one pulled date). Recorded, never fatal. */
export interface DriftFinding {
  kind: DriftKind;
  column: string;
  /** The declared type (changed_type, missing_optional_column). */
  expected?: string;
  /** What the file holds instead: an inferred type (changed_type, new_column). */
  observed?: string;
  /** A value as found (truncated). */
  example?: string;
  /** One readable sentence. */
  detail: string;
}

/**
 * When a declared column has changed type: at least one of its non-empty values does not parse
 * as its type, and those are at least half of its non-empty values. (Bad values of a column that
 * did not change are a minority; they stay ordinary bad rows.)
 */
export function isChangedType(failing: number, nonEmpty: number): boolean {
  return failing >= 1 && failing * 2 >= nonEmpty;
}

const EXAMPLE_CHARS = 100;

/** The first `max` UTF-16 units of `s`, never splitting a surrogate pair, with `…` when cut. */
export function clipText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

const truncate = (s: string) => clipText(s, EXAMPLE_CHARS);

/** Code points in `s` (what a text length limit counts). */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** False when `s` holds a lone surrogate (JSON can carry one; no warehouse text column can). */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Why text breaks a `text(max)` column, or undefined: too many code points. */
export function textTooLong(v: string, max: number): string | undefined {
  // the common case costs a length compare: code points never exceed UTF-16 units
  if (v.length <= max) return undefined;
  const n = codePoints(v);
  return n > max ? `longer than ${max} characters (${n})` : undefined;
}

/** A value for a message or drift record: text as it is, anything else as JSON; truncated. */
export function exampleText(value: unknown): string {
  return typeof value === 'string' ? truncate(value) : jsonText(value, EXAMPLE_CHARS);
}

/**
 * A JSON value as JSON text, at most `max` characters; never throws (a value nested deeper than
 * the stack allows is described instead).
 */
export function jsonText(value: unknown, max: number): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch (err) {
    text = `(not serialisable: ${(err as Error).message})`;
  }
  return clipText(text, max);
}

/** A JSON value as JSON text (a string keeps its quotes, so "12" and 12 differ); truncated. */
export function exampleJson(value: unknown): string {
  return jsonText(value, EXAMPLE_CHARS);
}

/** Counts of observed types; `top()` is the most frequent. */
export class TypeTally {
  private readonly counts = new Map<string, number>();
  add(type: string): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }
  top(): string | undefined {
    let best: string | undefined;
    let n = 0;
    for (const [t, c] of this.counts) if (c > n) [best, n] = [t, c];
    return best;
  }
}

// ---- value parsing shared by the formats ------------------------------------------------------

/** Exports repeat the same dates and times on many rows: remember the last few thousand answers. */
function memoised<T>(fn: (v: string) => T, capacity = 20_000): (v: string) => T {
  const cache = new Map<string, T>();
  return (v) => {
    let hit = cache.get(v);
    if (hit === undefined && !cache.has(v)) {
      if (cache.size >= capacity) cache.clear();
      hit = fn(v);
      cache.set(v, hit);
    }
    return hit as T;
  };
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A date-time already in UTC (`Z`, `+00:00` or no zone) with a real date and hours 00–23: its UTC
 * text is a rearrangement of its own characters. Exports carry a distinct time on nearly every row,
 * so this skips the memo (it would miss) and the Date round trip (measured: a third of a CRM
 * export's ingest time with four timestamps a row).
 */
const UTC_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?(?:Z|[+-]00:?00)?$/i;

/** Days in a month of the proleptic Gregorian calendar (what Date uses). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The digit at `i`, or -1. */
function digitAt(v: string, i: number): number {
  const c = v.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** The number of the two digits at `i`, or -1. */
function twoDigits(v: string, i: number): number {
  const a = digitAt(v, i);
  const b = digitAt(v, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * The exports' own forms, `YYYY-MM-DDTHH:MM:SS` with `Z`, `.mmm` or `.mmmZ` (or none; `T` or a
 * space), checked character by character: no regular expression, no memo, one string built. Any
 * other form (or an impossible date, which Date.parse rolls over) takes `UTC_DATE_TIME` below.
 */
function exportFastPath(v: string): string | undefined {
  const n = v.length;
  if (n !== 19 && n !== 20 && n !== 23 && n !== 24) return undefined;
  const sep = v.charCodeAt(10);
  if (v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 116 && sep !== 32) || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58) return undefined;
  const zone = n === 20 || n === 24 ? v.charCodeAt(n - 1) : 0;
  if (zone !== 0 && zone !== 90 && zone !== 122) return undefined; // Z or z
  if (n >= 23 && (v.charCodeAt(19) !== 46 || digitAt(v, 20) < 0 || digitAt(v, 21) < 0 || digitAt(v, 22) < 0)) return undefined;
  let year = 0;
  for (let i = 0; i < 4; i++) {
    const d = digitAt(v, i);
    if (d < 0) return undefined;
    year = year * 10 + d;
  }
  const month = twoDigits(v, 5);
  const day = twoDigits(v, 8);
  const hh = twoDigits(v, 11);
  const mm = twoDigits(v, 14);
  const ss = twoDigits(v, 17);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return undefined;
  if (sep === 32 && n === 23) return v; // already canonical
  return `${v.slice(0, 10)} ${v.slice(11, 19)}.${n >= 23 ? v.slice(20, 23) : '000'}`;
}

function utcFastPath(v: string): string | undefined {
  const fast = exportFastPath(v);
  if (fast !== undefined) return fast;
  const m = UTC_DATE_TIME.exec(v);
  if (!m || !isValidDate(m[1]!)) return undefined;
  // Date.parse keeps three digits of the fraction, dropping the rest
  const ms = m[5] === undefined ? '000' : m[5].length >= 3 ? m[5].slice(0, 3) : m[5].padEnd(3, '0');
  return `${m[1]} ${m[2]}:${m[3]}:${m[4] ?? '00'}.${ms}`;
}

const normaliseAnyTimestamp = memoised((v: string): string | undefined => {
  const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const isDateTime = DATE_TIME.test(v);
  if (!isDateOnly && !isDateTime) return undefined;
  if (isDateOnly && !isIsoDate(v)) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(v);
  const ms = Date.parse(isDateOnly ? `${v}T00:00:00Z` : `${v.replace(' ', 'T')}${hasZone ? '' : 'Z'}`);
  return Number.isNaN(ms) ? undefined : sqlTimestampText(new Date(ms));
});

/** UTC text for an ISO 8601 date or date-time, or undefined when it is not one. */
export function normaliseTimestamp(v: string): string | undefined {
  return utcFastPath(v) ?? normaliseAnyTimestamp(v);
}

export const isValidDate = memoised(isIsoDate);

/** The accepted bounds of one date or timestamp column for one file. */
export interface ColumnBounds {
  earliest: IsoDate;
  latest: IsoDate;
  /** Why the upper bound is what it is, for reasons: "the day after the file arrived". */
  latestMeans: string;
  earliestMeans: string;
}

/** The date window from the settings. */
export function dateWindow(settings: { INGEST_EARLIEST_DATE: IsoDate; INGEST_MAX_DAYS_AHEAD: number }): DateWindow {
  return { earliest: settings.INGEST_EARLIEST_DATE, maxDaysAhead: settings.INGEST_MAX_DAYS_AHEAD };
}

/** The settings' defaults, for code that runs without settings (the local API server, tests). */
export const DEFAULT_DATE_WINDOW: DateWindow = { earliest: '2000-01-01', maxDaysAhead: 1 };

/** The bounds of a date or timestamp column, given the day the data is about (arrival, or the requested date). */
export function columnBounds(type: ColumnType, window: DateWindow, anchor: IsoDate, anchorMeans: string): ColumnBounds | undefined {
  if (type.kind !== 'date' && type.kind !== 'timestamp') return undefined;
  const ahead = type.maxDaysAhead ?? window.maxDaysAhead;
  const earliest = type.earliest ?? window.earliest;
  return {
    earliest,
    latest: addDays(anchor, ahead),
    earliestMeans: type.earliest === undefined ? 'INGEST_EARLIEST_DATE' : 'the column\'s earliest',
    latestMeans: ahead === 0 ? anchorMeans : `${ahead} day${ahead === 1 ? '' : 's'} after ${anchorMeans}`,
  };
}

/**
 * Why a valid date (`YYYY-MM-DD`) or normalised UTC timestamp (`YYYY-MM-DD HH:MM:SS.mmm`, or with
 * a signed year beyond 0000–9999) falls outside the bounds, or undefined.
 */
export function outsideBounds(value: string, b: ColumnBounds, original: string): string | undefined {
  const day = value.slice(0, 10);
  const sign = value.charCodeAt(0); // a year beyond 0000–9999 is signed
  // (the message is built only for a value outside: this runs on every date of every row)
  if (sign === 43 /* + */ || (sign !== 45 /* - */ && day > b.latest)) return `${shownValue(value, original)} is after ${b.latest} (${b.latestMeans})`;
  if (sign === 45 || day < b.earliest) return `${shownValue(value, original)} is before ${b.earliest} (${b.earliestMeans})`;
  return undefined;
}

function shownValue(value: string, original: string): string {
  return original === value ? `"${original}"` : `"${original}" (${value} UTC)`;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** What a text value looks like: integer, number, date, timestamp, boolean or text. */
export function inferTextType(v: string): string {
  if (INTEGER_TEXT.test(v)) return 'integer';
  if (NUMBER_TEXT.test(v)) return 'number';
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return isValidDate(v) ? 'date' : 'text';
  if (normaliseTimestamp(v) !== undefined) return 'timestamp';
  if (/^(true|false)$/i.test(v)) return 'boolean';
  return 'text';
}

/** The JSON type of a value: string, integer, number, boolean, array, object or null. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * When a JSON value (not null) does not parse as the column's type — range and length aside —
 * what it is instead: its JSON type, or for a string in a date / timestamp column what the text
 * looks like. Undefined when it parses.
 */
export function jsonTypeMismatch(type: ColumnType, v: unknown): string | undefined {
  switch (type.kind) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? undefined : jsonTypeOf(v);
    case 'text':
      return typeof v === 'string' ? undefined : jsonTypeOf(v);
    case 'date':
      return typeof v !== 'string' ? jsonTypeOf(v) : isValidDate(v) ? undefined : inferTextType(v);
    case 'timestamp':
      return typeof v !== 'string' ? jsonTypeOf(v) : normaliseTimestamp(v) !== undefined ? undefined : inferTextType(v);
    case 'decimal':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : typeof v === 'string' && parseDecimal(v, type) !== undefined ? undefined : jsonTypeOf(v);
    case 'boolean':
      return typeof v === 'boolean' ? undefined : jsonTypeOf(v);
    case 'enum':
      return typeof v === 'string' ? undefined : jsonTypeOf(v);
  }
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * A decimal already in its canonical text (digits without a sign or a leading zero, then a point
 * and 1 to `scale` digits, or none), within the precision and range: `{ text: v }`; anything else,
 * undefined (the general path decides). Exports write amounts so: no regular expression per value.
 */
function canonicalDecimal(v: string, type: { precision: number; scale: number; min?: number; max?: number }): { text: string } | undefined {
  const n = v.length;
  let i = 0;
  while (i < n && digitAt(v, i) >= 0) i++;
  const whole = i;
  if (whole === 0 || (whole > 1 && v.charCodeAt(0) === 48)) return undefined;
  if (i < n) {
    if (v.charCodeAt(i) !== 46) return undefined;
    i++;
    const from = i;
    while (i < n && digitAt(v, i) >= 0) i++;
    if (i < n || i === from || i - from > type.scale) return undefined;
  }
  const digitsBefore = whole === 1 && v.charCodeAt(0) === 48 ? 0 : whole;
  if (digitsBefore > type.precision - type.scale) return undefined;
  if (type.min !== undefined || type.max !== undefined) {
    const x = Number(v);
    if ((type.min !== undefined && x < type.min) || (type.max !== undefined && x > type.max)) return undefined;
  }
  return { text: v };
}

/**
 * A decimal's canonical text (`-12.50` → `-12.50`, `+007` → `7`, `.5` → `0.5`), or a reason it
 * breaks `decimal(p, s)`; undefined when the text is not a decimal number at all.
 */
export function parseDecimal(v: string, type: { precision: number; scale: number; min?: number; max?: number }): { text: string } | { reason: string } | undefined {
  const canonical = canonicalDecimal(v, type);
  if (canonical !== undefined) return canonical;
  const m = DECIMAL_TEXT.exec(v);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const whole = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  const fraction = m[3] ?? '';
  if (fraction.length > type.scale) return { reason: `more than ${type.scale} decimal places: "${v}"` };
  if ((whole === '0' ? 0 : whole.length) > type.precision - type.scale) return { reason: `more than ${type.precision - type.scale} digits before the point: "${v}"` };
  const text = `${m[1] === '-' && /[1-9]/.test(whole + fraction) ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
  const n = Number(text);
  if (type.min !== undefined && n < type.min) return { reason: `less than ${type.min}: ${text}` };
  if (type.max !== undefined && n > type.max) return { reason: `greater than ${type.max}: ${text}` };
  return { text };
}

const TRUE_TEXT = new Set(['true', '1', 'yes', 'y', 't']);
const FALSE_TEXT = new Set(['false', '0', 'no', 'n', 'f']);

/** true / false from CSV text, or undefined. */
export function parseBoolean(v: string): boolean | undefined {
  const l = v.toLowerCase();
  return TRUE_TEXT.has(l) ? true : FALSE_TEXT.has(l) ? false : undefined;
}

/** The declared spelling of an enum value matched case-insensitively, or undefined. */
export function enumLookup(values: readonly string[]): (v: string) => string | undefined {
  const byLower = new Map(values.map((x) => [x.toLowerCase(), x]));
  // the declared spelling itself (nearly every value) without lower-casing it first
  const exact = new Set(values);
  return (v) => (exact.has(v) ? v : byLower.get(v.toLowerCase()));
}

// ---- keys -----------------------------------------------------------------------------------

/**
 * The keys seen in one file, for `duplicateKeys: 'reject'`. While every key column but the first
 * holds the same value on every row (the usual case: the date of a pulled date), only the first
 * column's values are kept, with no key text built per row; the first row that differs switches
 * to full keys.
 */
export class UniqueKeys {
  private readonly seen = new Set<unknown>();
  private constants: unknown[] | undefined;
  private full = false;

  constructor(private readonly columns: readonly string[]) {
    if (columns.length === 0) throw new Error('a key needs at least one column');
  }

  /** Records the row's key; false when it was seen before. */
  add(row: Record<string, unknown>): boolean {
    const cols = this.columns;
    if (!this.full) {
      const constants = (this.constants ??= cols.slice(1).map((c) => row[c]));
      let same = true;
      for (let i = 1; i < cols.length; i++) {
        if (row[cols[i]!] !== constants[i - 1]) {
          same = false;
          break;
        }
      }
      if (same) {
        const k = row[cols[0]!];
        if (this.seen.has(k)) return false;
        this.seen.add(k);
        return true;
      }
      // Every key so far was (first value, ...constants): rebuild them as full keys.
      this.full = true;
      const firsts = [...this.seen];
      this.seen.clear();
      for (const v of firsts) this.seen.add(JSON.stringify([v ?? null, ...constants.map((c) => c ?? null)]));
    }
    const k = JSON.stringify(cols.map((c) => row[c] ?? null));
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
}

/** The reason of a row whose key was seen before in the same file. */
export function duplicateKeyReason(columns: readonly string[], row: Record<string, unknown>): string {
  const values = columns.map((c) => exampleText(row[c] ?? null));
  return columns.length === 1
    ? `duplicate ${columns[0]} "${values[0]}" in this file; the first row with it is kept`
    : `duplicate key (${columns.join(', ')}) = (${values.join(', ')}) in this file; the first row with it is kept`;
}

// ---- bounds on drift ----------------------------------------------------------------------------

/** Longest column name a drift finding records (`ops.schema_drift.column_name` holds 256). */
export const DRIFT_COLUMN_CHARS = 128;

/**
 * At most `max` findings: the first ones as they are, then one summary per kind of the rest
 * (column `(N more)`), so a file with thousands of new columns records a bounded number of rows.
 */
export function capDrift(findings: readonly DriftFinding[], max: number): DriftFinding[] {
  const clipped = findings.map((f) => (f.column.length > DRIFT_COLUMN_CHARS ? { ...f, column: clipText(f.column, DRIFT_COLUMN_CHARS) } : f));
  if (clipped.length <= max) return clipped;
  // room for one summary per kind that the cut leaves out
  const tailKinds = new Set(clipped.slice(Math.max(0, max - 3)).map((f) => f.kind)).size;
  const kept = clipped.slice(0, Math.max(0, max - tailKinds));
  const rest = clipped.slice(kept.length);
  const byKind = new Map<DriftKind, DriftFinding[]>();
  for (const f of rest) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
  for (const [kind, list] of byKind) {
    const names = list.slice(0, 10).map((f) => JSON.stringify(f.column)).join(', ');
    kept.push({
      kind,
      column: `(${list.length} more)`,
      detail: `${list.length} more ${kind} findings in this file, not recorded one by one (at most ${max} per file, INGEST_MAX_DRIFT_FINDINGS): ${names}${list.length > 10 ? ', …' : ''}`,
    });
  }
  return kept;
}
