/**
 * The SQL macros (functions/warehouse/macros.ts) give the same answers on every engine: each is
 * rendered for the engine under test and run there, against answers worked out by hand
 * (leap days, month ends, ISO weeks at year boundaries, percentiles of odd and even counts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderSql } from '../functions/warehouse/macros.js';
import type { SqlParams, Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';

describe('macro rendering', () => {
  it('expands macros per engine, nested, with their arguments parenthesised', () => {
    const sql = 'SELECT {{ add_days(month_start(d), 0 - @n) }} FROM t';
    expect(renderSql(sql, 'mssql')).toBe('SELECT DATEADD(day, CAST((0 - @n) AS INT), CAST((DATEFROMPARTS(YEAR((d)), MONTH((d)), 1)) AS DATE)) FROM t');
    expect(renderSql(sql, 'duckdb')).toBe("SELECT CAST(CAST((CAST(date_trunc('month', CAST((d) AS DATE)) AS DATE)) AS DATE) + CAST((0 - @n) AS INTEGER) AS DATE) FROM t");
  });

  it('round_to snaps a float onto a finer decimal grid, then rounds the decimal', () => {
    expect(renderSql('{{ round_to(safe_divide(a, b), 2) }}', 'mssql')).toBe(
      'CAST(ROUND(CAST(((CAST((a) AS FLOAT) / NULLIF(CAST((b) AS FLOAT), 0))) AS DECIMAL(38, 6)), 2) AS DECIMAL(38, 2))',
    );
    expect(renderSql('{{ round_to(x, 3) }}', 'duckdb')).toBe('CAST(ROUND(CAST((x) AS DECIMAL(38, 7)), 3) AS DECIMAL(38, 3))');
  });

  it('leaves strings, comments and text outside the braces alone', () => {
    const sql = "-- {{ add_days(x, 1) }}\nSELECT '{{ not_a_macro }}', add_days(x, 1), {{ add_days('2024-01-01', 1) }} /* {{ y }} */";
    expect(renderSql(sql, 'mssql')).toBe(
      "-- {{ add_days(x, 1) }}\nSELECT '{{ not_a_macro }}', add_days(x, 1), DATEADD(day, CAST((1) AS INT), CAST(('2024-01-01') AS DATE)) /* {{ y }} */",
    );
  });

  it('splits arguments at top-level commas only', () => {
    expect(renderSql("{{ safe_divide(COALESCE(a, 1), CASE WHEN b = ',' THEN 1 ELSE 2 END) }}", 'duckdb')).toBe(
      "(CAST((COALESCE(a, 1)) AS DOUBLE) / NULLIF(CAST((CASE WHEN b = ',' THEN 1 ELSE 2 END) AS DOUBLE), 0))",
    );
  });

  it('fills integer slots and refuses anything else', () => {
    expect(renderSql('ROWS BETWEEN {{n}} PRECEDING', 'mssql', { n: 6 })).toBe('ROWS BETWEEN 6 PRECEDING');
    expect(() => renderSql('{{n}}', 'mssql')).toThrow(/no value/);
    expect(() => renderSql('{{n}}', 'mssql', { n: -1 })).toThrow(/non-negative integer/);
    expect(() => renderSql('{{n}}', 'mssql', { n: 1.5 })).toThrow(/non-negative integer/);
  });

  it('names an unknown macro, a wrong argument count, an unclosed brace and a non-literal fraction', () => {
    expect(() => renderSql('{{ add_dayz(d, 1) }}', 'mssql')).toThrow(/unknown SQL macro add_dayz\(\)/);
    expect(() => renderSql('{{ add_days(d) }}', 'mssql')).toThrow(/add_days\(\) takes 2 argument\(s\), got 1/);
    expect(() => renderSql('SELECT {{ add_days(d, 1) ', 'mssql')).toThrow(/never closed/);
    expect(() => renderSql('{{ percentile_cont(@p, x) }}', 'mssql')).toThrow(/literal from 0 to 1/);
    expect(() => renderSql('{{ round_to(x, @s) }}', 'mssql')).toThrow(/literal from 0 to 8/);
    expect(() => renderSql('{{ add_days(d, 1) + 1 }}', 'mssql')).toThrow(/one macro call/);
    expect(() => renderSql('{{ 1 + 1 }}', 'mssql')).toThrow(/a macro call or an integer slot/);
  });
});

describe.each(ENGINES)('macros on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  beforeEach(async () => (wh = await engine.open()), engine.hookTimeoutMs);
  afterEach(() => wh.close(), engine.hookTimeoutMs);

  const one = async (expr: string, params: SqlParams = {}) => (await wh.query<{ r: unknown }>(renderSql(`SELECT ${expr} AS r`, wh.engine), params))[0]!.r;

  it.each([
    ['2024-01-31', 1, '2024-02-01'],
    ['2024-02-28', 1, '2024-02-29'], // leap day
    ['2023-02-28', 1, '2023-03-01'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2024-01-01', -1, '2023-12-31'],
    ['2024-05-15', 0, '2024-05-15'],
    ['2024-01-01', 366, '2025-01-01'],
  ])('add_days(%s, %i) = %s', async (d, n, expected) => {
    expect(await one('{{ add_days(@d, @n) }}', { d, n })).toBe(expected);
  });

  it.each([
    ['2024-01-31', 1, '2024-02-29'], // clipped to the month end, leap year
    ['2023-01-31', 1, '2023-02-28'],
    ['2024-03-31', -1, '2024-02-29'],
    ['2024-05-15', 12, '2025-05-15'],
  ])('add_months(%s, %i) = %s', async (d, n, expected) => {
    expect(await one('{{ add_months(@d, @n) }}', { d, n })).toBe(expected);
  });

  it.each([
    ['2024-02-28', '2024-03-01', 2],
    ['2024-03-01', '2024-02-28', -2],
    ['2024-05-05', '2024-05-05', 0],
    ['2024-01-01', '2025-01-01', 366],
  ])('days_between(%s, %s) = %i', async (a, b, expected) => {
    expect(await one('{{ days_between(@a, @b) }}', { a, b })).toBe(expected);
  });

  it.each([
    ['2024-01-31', '2024-02-01', 1], // a month boundary, not a month's length
    ['2024-01-01', '2024-01-31', 0],
    ['2023-11-15', '2024-02-14', 3],
    ['2024-03-01', '2024-01-31', -2],
  ])('months_between(%s, %s) = %i', async (a, b, expected) => {
    expect(await one('{{ months_between(@a, @b) }}', { a, b })).toBe(expected);
  });

  it.each([
    ['2024-01-01 00:00:00', '2024-01-02 06:30:00', 30.5],
    ['2024-01-02 06:30:00', '2024-01-01 00:00:00', -30.5],
    ['2024-01-01 10:00:00.000', '2024-01-01 10:00:36.000', 0.01],
    ['2024-02-28 23:00:00', '2024-03-01 01:00:00', 26], // across a leap day
    // exact half-thousandths round half away from zero, as T-SQL's exact DECIMAL(29, 9) quotient does
    // (a double quotient gave 0.500 and 4.000 on DuckDB: an SLA of 4 h met there, breached on Azure)
    ['2024-01-08 00:00:00', '2024-01-08 00:30:01.800', 0.501], // 1,801,800 ms / 3,600,000 = 0.5005
    ['2024-01-08 00:00:00', '2024-01-08 04:00:01.800', 4.001], // 14,401,800 ms = 4.0005 h
    ['2024-01-08 04:00:01.800', '2024-01-08 00:00:00', -4.001], // away from zero below it too
    ['2024-01-08 00:00:00', '2024-01-08 04:00:01.799', 4], // 4.00049972… h
  ])('hours_between(%s, %s) = %d', async (a, b, expected) => {
    expect(Number(await one('{{ hours_between(to_timestamp(@a), to_timestamp(@b)) }}', { a, b }))).toBe(expected);
  });

  it.each([
    ['2024-02-29', '2024-02-01', '2024-01-01', '2024-01-01'],
    ['2024-05-15', '2024-05-01', '2024-04-01', '2024-01-01'],
    ['2024-12-31', '2024-12-01', '2024-10-01', '2024-01-01'],
    ['2023-03-01', '2023-03-01', '2023-01-01', '2023-01-01'],
  ])('month, quarter and year start of %s', async (d, month, quarter, year) => {
    const [row] = await wh.query(renderSql('SELECT {{ month_start(@d) }} AS m, {{ quarter_start(@d) }} AS q, {{ year_start(@d) }} AS y', wh.engine), { d });
    expect(row).toEqual({ m: month, q: quarter, y: year });
  });

  // ISO 8601: weeks start on Monday; week 1 holds the year's first Thursday.
  it.each([
    ['2024-01-01', 1, '2024-01-01', 1, 2024], // a Monday
    ['2024-01-07', 7, '2024-01-01', 1, 2024], // a Sunday
    ['2024-02-29', 4, '2024-02-26', 9, 2024],
    ['2021-01-03', 7, '2020-12-28', 53, 2020], // early January in the previous ISO year
    ['2024-12-30', 1, '2024-12-30', 1, 2025], // late December in the next ISO year
    ['2027-01-01', 5, '2026-12-28', 53, 2026], // 2026 starts on a Thursday: 53 weeks
  ])('%s: weekday %i, week start %s, ISO week %i of %i', async (d, weekday, monday, week, year) => {
    const [row] = await wh.query(
      renderSql('SELECT {{ iso_weekday(@d) }} AS wd, {{ week_start(@d) }} AS ws, {{ iso_week(@d) }} AS w, {{ iso_year(@d) }} AS y', wh.engine),
      { d },
    );
    expect(row).toEqual({ wd: weekday, ws: monday, w: week, y: year });
  });

  it('date parts, keys and construction', async () => {
    const [row] = await wh.query(
      renderSql(
        `SELECT {{ date_part('year', @d) }} AS y, {{ date_part('quarter', @d) }} AS q, {{ date_part('month', @d) }} AS m, {{ date_part('day', @d) }} AS dd,
                {{ date_key(@d) }} AS k, {{ make_date(2024, 2, 29) }} AS made`,
        wh.engine,
      ),
      { d: '2024-05-09' },
    );
    expect(row).toEqual({ y: 2024, q: 2, m: 5, dd: 9, k: 20240509, made: '2024-02-29' });
  });

  it.each([
    [7, 2, 3.5], // never integer division
    [1, 4, 0.25],
    [-1, 4, -0.25],
    [0, 5, 0],
    [1, 0, null],
    [1, null, null],
    [1.5, 0.5, 3],
  ])('safe_divide(%s, %s) = %s', async (a, b, expected) => {
    expect(await one('{{ safe_divide(@a, @b) }}', { a, b })).toBe(expected);
  });

  // round_to(x, s): the decimal the float stands for, rounded half away from zero — the same on
  // both engines (a float cast straight to DECIMAL gave 2.68 on DuckDB, 2.67 on Azure SQL)
  it.each([
    ['{{ round_to(safe_divide(5.35, 2), 2) }}', '2.68'], // 5.35 / 2 = 2.675 exactly (the double: 2.67499999999999982…) → 2.68
    ['{{ round_to(safe_divide(-5.35, 2), 2) }}', '-2.68'], // away from zero below it
    ['{{ round_to(safe_divide(116.83, 2), 2) }}', '58.42'], // 58.415 (the double: 58.41499999…) → 58.42
    ['{{ round_to(safe_divide(333.33, 2), 2) }}', '166.67'], // 166.665 → 166.67
    ['{{ round_to(safe_divide(1, 3), 2) }}', '0.33'],
    ['{{ round_to(safe_divide(2.01, 2), 2) }}', '1.01'], // 1.005 → 1.01 (a DECIMAL / INT was 1.00 on DuckDB, 1.01 on Azure)
    ['{{ round_to(to_double(1.005), 2) }}', '1.01'], // a float that stands for a half-cent (CAST(1.005 AS DOUBLE) AS DECIMAL(9, 2) is 1.00 on DuckDB)
    ['{{ round_to(safe_divide(7, 2), 0) }}', '4'], // 3.5 → 4
    ['{{ round_to(CAST(2.675 AS DECIMAL(9, 3)), 2) }}', '2.68'], // a DECIMAL: rounded as it is
    ['{{ round_to(safe_divide(1, 0), 2) }}', null],
  ])('%s = %s', async (expr, expected) => {
    const r = await one(expr);
    expect(r === null ? null : Number(r).toFixed(expr.endsWith(', 0) }}') ? 0 : 2)).toBe(expected);
  });

  it('round_to of an even-count median at an exact half-thousandth', async () => {
    // 1.234 h and 1.239 h: the median is 1.2365 exactly (the float 1.23649999…) → 1.237 on both
    // engines (cast straight to DECIMAL(14, 3): 1.237 on DuckDB, 1.236 on Azure SQL)
    const rows = await wh.query<{ p50: unknown }>(
      renderSql(
        `WITH v (x) AS (SELECT CAST(1.234 AS DECIMAL(18, 3)) UNION ALL SELECT CAST(1.239 AS DECIMAL(18, 3))),
         q AS (SELECT {{ percentile_cont(0.5, x) }} AS p50 FROM v)
         SELECT CAST({{ round_to(MAX(p50), 3) }} AS DECIMAL(14, 3)) AS p50 FROM q`,
        wh.engine,
      ),
    );
    expect(rows.map((r) => Number(r.p50).toFixed(3))).toEqual(['1.237']);
  });

  it.each([
    [1, true],
    [0, false],
    [null, null],
  ])('to_bool(%s) = %s', async (x, expected) => {
    expect(await one('{{ to_bool(@x) }}', { x })).toBe(expected);
    // a flag computed by a CASE, as a view declares it
    expect(await one('{{ to_bool(CASE WHEN @x = 1 THEN 1 WHEN @x = 0 THEN 0 END) }}', { x })).toBe(expected);
  });

  it('natural log, doubles and the sample standard deviation', async () => {
    expect(await one('{{ ln(1) }}')).toBe(0);
    expect(Number(await one('{{ ln(exp(2)) }}'))).toBeCloseTo(2, 12);
    expect(await one('{{ to_double(1) }} / 3')).toBeCloseTo(1 / 3, 15); // 8 bytes: DuckDB's FLOAT would give 0.3333333432674408
    const [row] = await wh.query<{ sd: number; one: number | null }>(
      renderSql(
        `WITH v (g, x) AS (SELECT 'a', 2 UNION ALL SELECT 'a', 4 UNION ALL SELECT 'a', 4 UNION ALL SELECT 'a', 4
                           UNION ALL SELECT 'a', 5 UNION ALL SELECT 'a', 5 UNION ALL SELECT 'a', 7 UNION ALL SELECT 'a', 9 UNION ALL SELECT 'b', 1)
         SELECT MAX(CASE WHEN g = 'a' THEN sd END) AS sd, MAX(CASE WHEN g = 'b' THEN 1 END) AS one, MAX(CASE WHEN g = 'b' THEN sd END) AS sd_b
         FROM (SELECT g, {{ stddev_samp(x) }} AS sd FROM v GROUP BY g) s`,
        wh.engine,
      ),
    );
    expect(row!.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(row).toMatchObject({ one: 1, sd_b: null }); // one value: no sample deviation
  });

  it('percentile_cont over odd and even counts, per partition and over everything', async () => {
    // odd: 1 2 3 4 100 → median 3, P75 at position 3 → 4, P95 at 3.8 → 4 + 0.8 × 96 = 80.8
    // even: 1 2 3 10 → median 2.5, P75 at 2.25 → 3 + 0.25 × 7 = 4.75, P95 at 2.85 → 3 + 0.85 × 7 = 8.95
    const rows = await wh.query<{ g: string; p50: number; p75: number; p95: number; overall: number }>(
      renderSql(
        `WITH v (g, x) AS (SELECT 'odd', 1 UNION ALL SELECT 'odd', 2 UNION ALL SELECT 'odd', 3 UNION ALL SELECT 'odd', 4 UNION ALL SELECT 'odd', 100
                           UNION ALL SELECT 'even', 10 UNION ALL SELECT 'even', 3 UNION ALL SELECT 'even', 1 UNION ALL SELECT 'even', 2),
         q AS (SELECT g, {{ percentile_cont(0.5, x, g) }} AS p50, {{ percentile_cont(0.75, x, g) }} AS p75, {{ percentile_cont(0.95, x, g) }} AS p95,
                      {{ percentile_cont(0.5, x) }} AS overall FROM v)
         SELECT g, MAX(p50) AS p50, MAX(p75) AS p75, MAX(p95) AS p95, MAX(overall) AS overall FROM q GROUP BY g ORDER BY g`,
        wh.engine,
      ),
    );
    expect(rows.map((r) => ({ ...r, p95: Number(r.p95.toFixed(9)) }))).toEqual([
      { g: 'even', p50: 2.5, p75: 4.75, p95: 8.95, overall: 3 }, // all nine values: 1 1 2 2 3 3 4 10 100 → 3
      { g: 'odd', p50: 3, p75: 4, p95: 80.8, overall: 3 },
    ]);
  });

  it('percentile_cont of a DECIMAL is the float interpolation on both engines, rounded (not cut) by a cast', async () => {
    // 3.000 and 4.000 at 0.85: 3.8499999999999996 as a float; DECIMAL(14, 3) rounds it to 3.850
    // (DuckDB's own quantile of a DECIMAL would answer 3.849)
    const rows = await wh.query<{ p95: number }>(
      renderSql(
        `WITH v (x) AS (SELECT CAST(1 AS DECIMAL(18, 3)) UNION ALL SELECT CAST(2 AS DECIMAL(18, 3)) UNION ALL SELECT CAST(3 AS DECIMAL(18, 3)) UNION ALL SELECT CAST(4 AS DECIMAL(18, 3))),
         q AS (SELECT {{ percentile_cont(0.95, x) }} AS p95 FROM v)
         SELECT CAST(MAX(p95) AS DECIMAL(14, 3)) AS p95 FROM q`,
        wh.engine,
      ),
    );
    expect(rows).toEqual([{ p95: 3.85 }]);
  });
});
