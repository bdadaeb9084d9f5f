/**
 * SQL macros: the named helpers models write where the two engines differ, expanded into each
 * engine's native text when the SQL is rendered (like dbt's dispatched macros). A model writes
 * `{{ add_days(activity_date, -7) }}`; Azure SQL receives `DATEADD(day, …)`, DuckDB interval
 * arithmetic. Nothing is called at run time: Azure SQL does not inline a scalar UDF in a query
 * with CTEs, and a non-inlined one runs per row and forbids a parallel plan.
 *
 * Arguments are SQL expressions (they may contain further `{{ … }}` macros). Each expansion
 * wraps its arguments in parentheses, so an argument's operators never bind to the macro's text.
 */
import { renderTemplate } from './sqlText.js';
import type { EngineName } from './warehouse.js';

export interface Macro {
  /** One line for `npm run sql:print` and the README. */
  description: string;
  /** Arguments: at least `min`, at most `max` (Infinity for a list). */
  min: number;
  max: number;
  render(engine: EngineName, args: string[]): string;
}

const p = (expr: string) => `(${expr})`;

// 1900-01-01 was a Monday: days since then modulo 7 is the ISO weekday - 1 on T-SQL, whatever
// the session's DATEFIRST or language (DATEPART(weekday) depends on both).
const MONDAY_1900 = `CAST('1900-01-01' AS DATE)`;
const tsqlIsoWeekday0 = (d: string) => `(DATEDIFF(day, ${MONDAY_1900}, ${d}) % 7)`;

export const MACROS = {
  // ---- dates ----------------------------------------------------------------------------------
  add_days: {
    description: 'add_days(date, n): the date n days later (n may be negative); a DATE',
    min: 2,
    max: 2,
    render: (engine, [d, n]) =>
      engine === 'mssql' ? `DATEADD(day, CAST(${p(n!)} AS INT), CAST(${p(d!)} AS DATE))` : `CAST(CAST(${p(d!)} AS DATE) + CAST(${p(n!)} AS INTEGER) AS DATE)`,
  },
  add_months: {
    description: 'add_months(date, n): the same day n months later, clipped to the month end; a DATE',
    min: 2,
    max: 2,
    render: (engine, [d, n]) =>
      engine === 'mssql'
        ? `DATEADD(month, CAST(${p(n!)} AS INT), CAST(${p(d!)} AS DATE))`
        : `CAST(CAST(${p(d!)} AS DATE) + to_months(CAST(${p(n!)} AS INTEGER)) AS DATE)`,
  },
  days_between: {
    description: 'days_between(a, b): whole days from date a to date b (negative when b is earlier); an INT',
    min: 2,
    max: 2,
    render: (engine, [a, b]) =>
      engine === 'mssql' ? `DATEDIFF(day, CAST(${p(a!)} AS DATE), CAST(${p(b!)} AS DATE))` : `CAST(CAST(${p(b!)} AS DATE) - CAST(${p(a!)} AS DATE) AS INTEGER)`,
  },
  months_between: {
    description: 'months_between(a, b): calendar-month boundaries from date a to date b (Jan 31 → Feb 1 is 1); an INT',
    min: 2,
    max: 2,
    render: (engine, [a, b]) =>
      engine === 'mssql'
        ? `DATEDIFF(month, CAST(${p(a!)} AS DATE), CAST(${p(b!)} AS DATE))`
        : `CAST((year(CAST(${p(b!)} AS DATE)) - year(CAST(${p(a!)} AS DATE))) * 12 + month(CAST(${p(b!)} AS DATE)) - month(CAST(${p(a!)} AS DATE)) AS INTEGER)`,
  },
  hours_between: {
    description: 'hours_between(a, b): hours from timestamp a to timestamp b, to the millisecond; a DECIMAL(18, 3)',
    min: 2,
    max: 2,
    render: (engine, [a, b]) =>
      engine === 'mssql'
        ? `CAST(DATEDIFF_BIG(millisecond, ${p(a!)}, ${p(b!)}) / 3600000.0 AS DECIMAL(18, 3))`
        : // DuckDB: ms / 3600000.0 is a DOUBLE, and its cast misrounds ~1 % of exact half-thousandths
          // (14,401,800 ms → 4.000, T-SQL's exact decimal gives 4.001). ms / 3600 is a correctly
          // rounded double (an exact half stays exact), round() goes half away from zero like T-SQL's
          // cast, and the thousandths are scaled back in DECIMAL
          `CAST(CAST(round(date_diff('millisecond', CAST(${p(a!)} AS TIMESTAMP), CAST(${p(b!)} AS TIMESTAMP)) / 3600.0) AS DECIMAL(18, 0)) * CAST(0.001 AS DECIMAL(4, 3)) AS DECIMAL(18, 3))`,
  },
  month_start: {
    description: 'month_start(date): the first day of its month; a DATE',
    min: 1,
    max: 1,
    render: (engine, [d]) =>
      engine === 'mssql' ? `DATEFROMPARTS(YEAR(${p(d!)}), MONTH(${p(d!)}), 1)` : `CAST(date_trunc('month', CAST(${p(d!)} AS DATE)) AS DATE)`,
  },
  quarter_start: {
    description: 'quarter_start(date): the first day of its calendar quarter; a DATE',
    min: 1,
    max: 1,
    render: (engine, [d]) =>
      engine === 'mssql'
        ? `DATEFROMPARTS(YEAR(${p(d!)}), (DATEPART(quarter, ${p(d!)}) - 1) * 3 + 1, 1)`
        : `CAST(date_trunc('quarter', CAST(${p(d!)} AS DATE)) AS DATE)`,
  },
  year_start: {
    description: 'year_start(date): January 1 of its year; a DATE',
    min: 1,
    max: 1,
    render: (engine, [d]) => (engine === 'mssql' ? `DATEFROMPARTS(YEAR(${p(d!)}), 1, 1)` : `CAST(date_trunc('year', CAST(${p(d!)} AS DATE)) AS DATE)`),
  },
  week_start: {
    description: 'week_start(date): the Monday of its ISO week; a DATE',
    min: 1,
    max: 1,
    render: (engine, [d]) =>
      engine === 'mssql'
        ? `DATEADD(day, 0 - ${tsqlIsoWeekday0(`CAST(${p(d!)} AS DATE)`)}, CAST(${p(d!)} AS DATE))`
        : `CAST(date_trunc('week', CAST(${p(d!)} AS DATE)) AS DATE)`,
  },
  iso_weekday: {
    description: 'iso_weekday(date): 1 = Monday … 7 = Sunday; an INT',
    min: 1,
    max: 1,
    render: (engine, [d]) => (engine === 'mssql' ? `(${tsqlIsoWeekday0(`CAST(${p(d!)} AS DATE)`)} + 1)` : `CAST(isodow(CAST(${p(d!)} AS DATE)) AS INTEGER)`),
  },
  iso_week: {
    description: 'iso_week(date): its ISO 8601 week number, 1 … 53; an INT',
    min: 1,
    max: 1,
    render: (engine, [d]) => (engine === 'mssql' ? `DATEPART(iso_week, CAST(${p(d!)} AS DATE))` : `CAST(week(CAST(${p(d!)} AS DATE)) AS INTEGER)`),
  },
  iso_year: {
    description: 'iso_year(date): the year its ISO week belongs to (the year of that week\'s Thursday); an INT',
    min: 1,
    max: 1,
    render: (engine, [d]) =>
      engine === 'mssql'
        ? `YEAR(DATEADD(day, 3 - ${tsqlIsoWeekday0(`CAST(${p(d!)} AS DATE)`)}, CAST(${p(d!)} AS DATE)))`
        : `CAST(isoyear(CAST(${p(d!)} AS DATE)) AS INTEGER)`,
  },
  date_part: {
    description: "date_part('year' | 'quarter' | 'month' | 'day', date): that part as an INT",
    min: 2,
    max: 2,
    render: (engine, [part, d]) => {
      const name = /^'(year|quarter|month|day)'$/i.exec(part!.trim())?.[1]?.toLowerCase();
      if (!name) throw new Error(`date_part: the part must be one of 'year', 'quarter', 'month', 'day', got ${part}`);
      return engine === 'mssql' ? `DATEPART(${name}, ${p(d!)})` : `CAST(${name}(CAST(${p(d!)} AS DATE)) AS INTEGER)`;
    },
  },
  make_date: {
    description: 'make_date(year, month, day): a DATE',
    min: 3,
    max: 3,
    render: (engine, [y, m, d]) => (engine === 'mssql' ? `DATEFROMPARTS(${p(y!)}, ${p(m!)}, ${p(d!)})` : `make_date(CAST(${p(y!)} AS INTEGER), CAST(${p(m!)} AS INTEGER), CAST(${p(d!)} AS INTEGER))`),
  },
  date_key: {
    description: 'date_key(date): the date as the integer yyyymmdd (a date dimension key); an INT',
    min: 1,
    max: 1,
    render: (engine, [d]) =>
      engine === 'mssql'
        ? `(YEAR(${p(d!)}) * 10000 + MONTH(${p(d!)}) * 100 + DAY(${p(d!)}))`
        : `CAST(year(CAST(${p(d!)} AS DATE)) * 10000 + month(CAST(${p(d!)} AS DATE)) * 100 + day(CAST(${p(d!)} AS DATE)) AS INTEGER)`,
  },

  // ---- types ----------------------------------------------------------------------------------
  to_timestamp: {
    description: 'to_timestamp(x): x as the warehouse timestamp type (DATETIME2(3) / TIMESTAMP), UTC',
    min: 1,
    max: 1,
    render: (engine, [x]) => (engine === 'mssql' ? `CAST(${p(x!)} AS DATETIME2(3))` : `CAST(${p(x!)} AS TIMESTAMP)`),
  },
  to_double: {
    description: 'to_double(x): x as an 8-byte float (T-SQL FLOAT, DuckDB DOUBLE: DuckDB\'s FLOAT is 4 bytes); into a DECIMAL only through round_to',
    min: 1,
    max: 1,
    render: (engine, [x]) => (engine === 'mssql' ? `CAST(${p(x!)} AS FLOAT)` : `CAST(${p(x!)} AS DOUBLE)`),
  },

  to_bool: {
    description: 'to_bool(x): a 0/1 integer (a CASE) as the warehouse boolean type (BIT / BOOLEAN), for a view whose flag is declared bool',
    min: 1,
    max: 1,
    render: (engine, [x]) => (engine === 'mssql' ? `CAST(${p(x!)} AS BIT)` : `CAST(${p(x!)} AS BOOLEAN)`),
  },

  // ---- arithmetic -----------------------------------------------------------------------------
  safe_divide: {
    description: 'safe_divide(a, b): a / b as an 8-byte float, NULL when b is 0 or NULL (never integer division); into a DECIMAL only through round_to',
    min: 2,
    max: 2,
    render: (engine, [a, b]) => {
      const dbl = engine === 'mssql' ? 'FLOAT' : 'DOUBLE';
      return `(CAST(${p(a!)} AS ${dbl}) / NULLIF(CAST(${p(b!)} AS ${dbl}), 0))`;
    },
  },
  round_to: {
    description:
      'round_to(x, s): x (a float or a decimal) rounded half away from zero to s decimals (s a literal 0 … 8), the same on both engines; a DECIMAL(38, s). Every float that becomes a DECIMAL goes through it',
    min: 2,
    max: 2,
    render: (_engine, [x, scale]) => {
      const s = scale!.trim();
      if (!/^[0-8]$/.test(s)) throw new Error(`round_to: the scale must be a literal from 0 to 8, got ${scale}`);
      // A float cast straight to DECIMAL(p, s) (or ROUND(float, s)) rounds differently per engine at
      // an exact half: DuckDB scales the double by 10^s and rounds that (5.35 / 2 = 2.67499999999999982
      // → 2.68), SQL Server rounds the double's own value (→ 2.67). Snapped first onto a grid 10^4
      // finer than s, the float becomes the decimal it stands for (its error is far below 10^-(s+4)
      // while |x| < ~10^9), and both engines round a DECIMAL half away from zero (docs/azure-sql.md, W1).
      return `CAST(ROUND(CAST(${p(x!)} AS DECIMAL(38, ${Number(s) + 4})), ${s}) AS DECIMAL(38, ${s}))`;
    },
  },
  ln: {
    description: 'ln(x): the natural logarithm (T-SQL LOG; DuckDB LOG is base 10)',
    min: 1,
    max: 1,
    render: (engine, [x]) => (engine === 'mssql' ? `LOG(${p(x!)})` : `ln(${p(x!)})`),
  },
  stddev_samp: {
    description: 'stddev_samp(x): sample standard deviation, an aggregate (NULL for fewer than two values)',
    min: 1,
    max: 1,
    render: (engine, [x]) => (engine === 'mssql' ? `STDEV(${p(x!)})` : `stddev_samp(${p(x!)})`),
  },

  // ---- windows ----------------------------------------------------------------------------------
  percentile_cont: {
    description:
      'percentile_cont(p, x, partition columns…): the continuous p-quantile of x over the partition, as a window value on every row (group the result to one row per partition); an 8-byte float on both engines, into a DECIMAL only through round_to',
    min: 2,
    max: Infinity,
    render: (engine, [fraction, x, ...partition]) => {
      const f = fraction!.trim();
      // T-SQL requires a literal between 0 and 1
      if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(f)) throw new Error(`percentile_cont: the fraction must be a literal from 0 to 1, got ${fraction}`);
      const over = `OVER (${partition.length ? `PARTITION BY ${partition.map((c) => c.trim()).join(', ')}` : ''})`;
      // T-SQL answers a float whatever x is; DuckDB answers x's type, and for a DECIMAL it truncates
      // the interpolated value (3.000, 4.000 at 0.85 → 3.849): it interpolates a DOUBLE here too
      return engine === 'mssql'
        ? `PERCENTILE_CONT(${f}) WITHIN GROUP (ORDER BY ${p(x!)}) ${over}`
        : `quantile_cont(CAST(${p(x!)} AS DOUBLE), ${f}) ${over}`;
    },
  },
} satisfies Record<string, Macro>;

export type MacroName = keyof typeof MACROS;

export function isMacro(name: string): name is MacroName {
  return Object.hasOwn(MACROS, name);
}

/** Expands one macro call; the arguments are already rendered. */
export function expandMacro(engine: EngineName, name: string, args: string[]): string {
  if (!isMacro(name)) throw new Error(`unknown SQL macro ${name}(); known: ${Object.keys(MACROS).join(', ')}`);
  const m: Macro = MACROS[name];
  if (args.length < m.min || args.length > m.max) {
    const want = m.min === m.max ? `${m.min}` : m.max === Infinity ? `at least ${m.min}` : `${m.min} to ${m.max}`;
    throw new Error(`SQL macro ${name}() takes ${want} argument(s), got ${args.length}: ${m.description}`);
  }
  return m.render(engine, args);
}

/** Renders template text for one engine: macros expanded, integer slots filled (`sqlText.renderTemplate`). */
export function renderSql(text: string, engine: EngineName, slots: Record<string, number> = {}): string {
  return renderTemplate(text, { macro: { isMacro, expand: (name, args) => expandMacro(engine, name, args) }, slots });
}
