/**
 * A portability lint over the text of every model (every `.sql` file under `sql/`, whatever its
 * folder): constructs that run on one engine only, or run on both and answer differently, are
 * refused with the file, the line and what to write instead (DESIGN.md, "Two warehouse engines,
 * one SQL text"). Strings and comments are not looked at.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import { SQL_DIR } from '../functions/warehouse/ddl.js';
import { codeOnly } from '../functions/warehouse/sqlText.js';

interface Rule {
  what: string;
  pattern: RegExp;
  instead: string;
}

const RULES: Rule[] = [
  { what: 'a `::` cast (DuckDB and PostgreSQL only)', pattern: /::/g, instead: 'CAST(x AS type)' },
  { what: 'QUALIFY (DuckDB only)', pattern: /\bQUALIFY\b/gi, instead: 'ROW_NUMBER() in a CTE, then WHERE on it' },
  { what: 'IS [NOT] DISTINCT FROM (newer than the T-SQL grammar the tests check with)', pattern: /\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b/gi, instead: '= / <> with explicit IS NULL tests' },
  { what: 'GENERATE_SERIES (compatibility level 160 on SQL Server; another column name on DuckDB)', pattern: /\bGENERATE_SERIES\b/gi, instead: 'a join to silver.dim_calendar' },
  { what: 'a RANGE frame with an offset (T-SQL has none)', pattern: /\bRANGE\s+(?!(BETWEEN\s+(UNBOUNDED\s+PRECEDING|CURRENT\s+ROW)\s+AND\s+(CURRENT\s+ROW|UNBOUNDED\s+FOLLOWING)|UNBOUNDED\s+PRECEDING|CURRENT\s+ROW)\b)\S+/gi, instead: 'a ROWS frame over a dense calendar grid' },
  { what: 'a FLOAT / REAL / DOUBLE type (DuckDB FLOAT is 4 bytes, T-SQL FLOAT 8)', pattern: /\b(FLOAT|REAL|DOUBLE)\b/gi, instead: '{{ to_double(x) }}' },
  { what: 'LIMIT / TOP (one engine each)', pattern: /\b(LIMIT|TOP)\b/gi, instead: 'ROW_NUMBER() in a CTE, then WHERE rank <= n' },
  { what: 'ILIKE (DuckDB only)', pattern: /\bILIKE\b/gi, instead: 'LOWER(a) LIKE LOWER(b)' },
  { what: 'an engine date function', pattern: /\b(DATEADD|DATEDIFF|DATEDIFF_BIG|DATE_TRUNC|DATE_DIFF|DATE_ADD|DATE_SUB|DATEPART|DATEFROMPARTS|EOMONTH|DATE_PART)\s*\(/gi, instead: 'a date macro: {{ add_days(d, n) }}, {{ days_between(a, b) }}, {{ month_start(d) }}, {{ date_part(\'month\', d) }}, …' },
  { what: 'LOG( (natural on T-SQL, base 10 on DuckDB)', pattern: /\bLOG\s*\(/gi, instead: '{{ ln(x) }}, or LOG10(x)' },
  { what: 'a util. function (replaced by macros expanded when the SQL is rendered)', pattern: /\butil\./gi, instead: 'the macro of the same name: {{ add_days(d, n) }}' },
  { what: 'the wall clock (answers must depend on the data, not on when they run)', pattern: /\b(GETDATE|GETUTCDATE|SYSDATETIME|SYSUTCDATETIME|NOW|CURRENT_DATE|CURRENT_TIMESTAMP|TODAY)\b/gi, instead: 'a date from the data or a parameter' },
  { what: 'ISNULL / IFNULL / NVL (ISNULL is a test, not a default, on DuckDB)', pattern: /\b(ISNULL|IFNULL|NVL)\s*\(/gi, instead: 'COALESCE(a, b)' },
  { what: 'IIF / IF( (one engine each)', pattern: /\b(IIF|IF)\s*\(/gi, instead: 'CASE WHEN … THEN … ELSE … END' },
  { what: '|| (string concatenation on DuckDB; new on Azure SQL, absent from SQL Server 2022)', pattern: /\|\|/g, instead: 'CONCAT(a, b)' },
  { what: 'a TRUE / FALSE literal (T-SQL has no boolean literal)', pattern: /\b(TRUE|FALSE)\b/gi, instead: '1 / 0' },
];

const lineOf = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

/** Findings as `file:line: what — use instead`. */
export function portabilityFindings(text: string, file: string): string[] {
  // macros are rendered per engine (`{{ date_part('year', d) }}` names a macro, not DuckDB's date_part): blanked, lines kept
  const code = codeOnly(text).replace(/\{\{[\s\S]*?\}\}/g, (m) => m.replace(/[^\n]/g, ' '));
  const found: string[] = [];
  for (const rule of RULES) {
    for (const m of code.matchAll(rule.pattern)) found.push(`${file}:${lineOf(code, m.index)}: ${rule.what}: \`${m[0].trim()}\` — use ${rule.instead}`);
  }
  // a WITH inside parentheses: a nested CTE (T-SQL allows CTEs only at the start of a statement)
  let depth = 0;
  for (const m of code.matchAll(/[()]|\bWITH\b/gi)) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth--;
    else if (depth > 0) found.push(`${file}:${lineOf(code, m.index)}: a nested WITH (T-SQL takes CTEs only at the start of a statement) — use one WITH list at the top of the statement`);
  }
  return found;
}

// ---- a float made a DECIMAL without round_to ---------------------------------------------------

/** Macros whose value is an 8-byte float (macros.ts). */
const FLOAT_MACROS = new Set(['safe_divide', 'to_double', 'percentile_cont', 'stddev_samp', 'ln']);
const CAST_TARGET = /^\s*AS\s+(DECIMAL|NUMERIC|INT|INTEGER|BIGINT|SMALLINT|DATE|VARCHAR|NVARCHAR)\b/i;

/** The offset just past the parenthesis that closes the one opened at `open`, or the text's end. */
function closing(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return i + 1;
  }
  return code.length;
}

/** Functions whose value is a float when their argument is (`MAX(p50) AS p50`). */
const FLOAT_KEEPING = /\b(MAX|MIN|SUM|AVG|COALESCE|ABS)\s*$/i;

/** The offset of the parenthesis that the one at `close` closes. */
function openerOf(code: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (code[i] === ')') depth++;
    else if (code[i] === '(' && --depth === 0) return i;
  }
  return 0;
}

/**
 * The alias a float value gets, scanning on from where it ends at its own depth: `… AS name`,
 * unless a CAST makes it another type first (`AS DECIMAL(…)`) or the item ends (`,` or `)`).
 */
function aliasAfter(code: string, from: number): string | undefined {
  let depth = 0;
  for (let i = from; i < code.length; i++) {
    const c = code[i]!;
    if (c === '(') depth++;
    else if (c === ')') {
      // out of the value's own parentheses: on through a function that keeps it a float
      if (depth-- === 0) {
        if (!FLOAT_KEEPING.test(code.slice(0, openerOf(code, i)))) return undefined;
        depth = 0;
      }
    } else if (depth === 0) {
      if (c === ',' || c === ';') return undefined;
      const rest = code.slice(i);
      if (/^\bFROM\b/i.test(rest) && /\W/.test(code[i - 1] ?? ' ')) return undefined;
      if (/^AS\b/i.test(rest) && /\W/.test(code[i - 1] ?? ' ')) {
        if (CAST_TARGET.test(rest)) return undefined;
        return /^AS\s+([A-Za-z_]\w*)/i.exec(rest)?.[1];
      }
    }
  }
  return undefined;
}

/**
 * W1 (docs/azure-sql.md): `CAST(<float> AS DECIMAL…)` and `ROUND(<float>, s)` round an exact half
 * differently on the two engines (5.35 / 2: 2.68 on DuckDB, 2.67 on Azure SQL). A float here is
 * what the lint can see without types: a float macro (safe_divide, to_double, percentile_cont,
 * stddev_samp, ln), an AVG, or a column the same file names after one (`{{ percentile_cont(…) }} AS
 * p50`, later `CAST(MAX(p50) AS DECIMAL(14, 3))`). `{{ round_to(x, s) }}` is the way through.
 */
export function floatToDecimalFindings(text: string, file: string): string[] {
  const code = codeOnly(text);
  // round_to is the way through: blanked with what it wraps
  const open = code.replace(/\{\{\s*round_to\s*\([\s\S]*?\}\}/g, (m) => m.replace(/[^\n]/g, ' '));
  const floats: RegExp[] = [/\bAVG\s*\(/i];
  const aliases = new Set<string>();
  for (const m of open.matchAll(/\{\{\s*([A-Za-z_]\w*)[\s\S]*?\}\}/g)) {
    if (!FLOAT_MACROS.has(m[1]!)) continue;
    const alias = aliasAfter(open, m.index + m[0].length);
    if (alias) aliases.add(alias);
  }
  for (const m of open.matchAll(/\bAVG\s*\(/gi)) {
    const alias = aliasAfter(open, closing(open, m.index + m[0].length - 1));
    if (alias) aliases.add(alias);
  }
  const aliasUse = () => new RegExp(`(?<![\\w@])(?:[A-Za-z_]\\w*\\.)?(${[...aliases].join('|')})\\b(?!\\s*\\()`, 'gi');
  // a float column renamed on (`p50 AS response_p50`, `MAX(response_p50) AS response_p50`) stays one
  for (let size = -1; aliases.size && aliases.size !== size; ) {
    size = aliases.size;
    for (const m of open.matchAll(aliasUse())) {
      const alias = aliasAfter(open, m.index + m[0].length);
      if (alias) aliases.add(alias);
    }
  }
  floats.push(new RegExp(`\\{\\{\\s*(${[...FLOAT_MACROS].join('|')})\\b`, 'i'));
  if (aliases.size) floats.push(new RegExp(aliasUse().source, 'i'));
  const found: string[] = [];
  for (const m of open.matchAll(/\b(CAST|ROUND)\s*\(/gi)) {
    const start = m.index + m[0].length;
    const end = closing(open, start - 1);
    const arg = open.slice(start, end - 1);
    const kind = m[1]!.toUpperCase();
    // a CAST to DECIMAL: its last top-level AS names the type
    if (kind === 'CAST') {
      let depth = 0;
      let target = '';
      for (let i = 0; i < arg.length; i++) {
        if (arg[i] === '(') depth++;
        else if (arg[i] === ')') depth--;
        else if (depth === 0 && /^AS\b/i.test(arg.slice(i)) && /\W/.test(arg[i - 1] ?? ' ')) target = arg.slice(i);
      }
      if (!/^AS\s+(DECIMAL|NUMERIC)\b/i.test(target)) continue;
    }
    const hit = floats.map((re) => re.exec(arg)?.[0]).find((x) => x !== undefined);
    if (hit === undefined) continue;
    found.push(
      `${file}:${lineOf(open, m.index)}: ${kind === 'CAST' ? 'a float cast to DECIMAL' : 'ROUND of a float'} (\`${hit.replace(/\{\{\s*/, '{{ ').trim()}\`), which rounds an exact half differently on each engine — use {{ round_to(x, s) }}, e.g. CAST({{ round_to(safe_divide(a, b), 2) }} AS DECIMAL(18, 2))`,
    );
  }
  return found;
}

/**
 * Models written before round_to, with float → DECIMAL casts still to move onto it (the CRM and
 * customer models, edited on other branches at the time): each must still have a finding, so the
 * list only shrinks. Empty once they are fixed.
 */
const PENDING_ROUND_TO = new Set<string>([]);

/** Every `.sql` file under `sql/`, in any folder (new domains are covered without a change here). */
function modelFiles(): string[] {
  return (readdirSync(SQL_DIR, { recursive: true }) as string[]).filter((f) => f.endsWith('.sql')).map((f) => path.join(SQL_DIR, f)).sort();
}

describe('portability lint', () => {
  it('finds nothing in any model', () => {
    const files = modelFiles();
    for (const m of MODEL_GRAPH.models) if (m.kind === 'sql') expect(files, m.file).toContain(path.join(SQL_DIR, m.file));
    const findings = files.flatMap((f) => portabilityFindings(readFileSync(f, 'utf8'), path.relative(path.dirname(SQL_DIR), f)));
    expect(findings, findings.join('\n')).toEqual([]);
  });

  it('finds no float made a DECIMAL without round_to (but in the models still pending, which must each still have one)', () => {
    const byFile = new Map(modelFiles().map((f) => [path.relative(path.dirname(SQL_DIR), f), floatToDecimalFindings(readFileSync(f, 'utf8'), path.relative(path.dirname(SQL_DIR), f))]));
    const findings = [...byFile].filter(([f]) => !PENDING_ROUND_TO.has(f)).flatMap(([, found]) => found);
    expect(findings, findings.join('\n')).toEqual([]);
    for (const f of PENDING_ROUND_TO) expect(byFile.get(f)?.length ?? 0, `${f} is pending round_to but has no finding: take it off the list`).toBeGreaterThan(0);
  });

  it('sees a float made a DECIMAL through a macro, an AVG or a column named after one, and lets round_to through', () => {
    const sql = [
      'WITH q AS (SELECT g, {{ percentile_cont(0.5, x, g) }} AS p50, AVG({{ to_double(x) }}) AS mean_x FROM t GROUP BY g),', // 1
      'm AS (SELECT g, MAX(p50) AS median, p50 AS again FROM q GROUP BY g)', // 2
      'SELECT CAST({{ safe_divide(a, b) }} AS DECIMAL(18, 2)) AS aov,', // 3: a float macro
      '  ROUND({{ safe_divide(a, b) }} * 100, 1) AS pct,', // 4: ROUND of a float
      '  CAST(m.median AS DECIMAL(14, 3)) AS median,', // 5: percentile_cont → p50 → MAX(p50) AS median
      '  CAST(q.mean_x AS NUMERIC(9, 2)) AS mean_x,', // 6: an AVG
      '  CAST(AVG({{ to_double(x) }}) AS DECIMAL(9, 2)) AS inline_mean,', // 7
      '  CAST({{ round_to(safe_divide(a, b), 2) }} AS DECIMAL(18, 2)) AS fine_aov,', // 8: round_to
      '  CAST({{ round_to(m.median, 3) }} AS DECIMAL(14, 3)) AS fine_median,', // 9
      '  CAST({{ safe_divide(a, b) }} * 100 AS INT) AS not_decimal,', // 10: not a DECIMAL (C1 is another matter)
      '  ROUND(CAST(q AS DECIMAL(18, 0)) * p, 2) AS exact,', // 11: exact decimal arithmetic
      '  CAST(CAST({{ safe_divide(a, b) }} AS DECIMAL(9, 4)) AS DECIMAL(18, 2)) AS nested', // 12: the inner cast is the finding
      'FROM m JOIN q ON q.g = m.g',
    ].join('\n');
    const lines = floatToDecimalFindings(sql, 'sql/f.sql').map((f) => Number(/^sql\/f\.sql:(\d+):/.exec(f)![1]));
    expect(lines).toEqual([3, 4, 5, 6, 7, 12, 12]);
    expect(floatToDecimalFindings(sql, 'sql/f.sql')[0]).toContain('{{ round_to(x, s) }}');
  });

  it('names the file, line and the macro to use, for each rule', () => {
    const bad = [
      'SELECT x::int,',
      "  DATEADD(day, 1, d), date_trunc('month', d), LOG(x), CAST(x AS FLOAT), util.add_days(d, 1),",
      '  ISNULL(a, 0), IIF(a > 1, 1, 0), a || b, TRUE, GETDATE()',
      'FROM t WHERE a IS NOT DISTINCT FROM b AND a ILIKE b',
      'QUALIFY ROW_NUMBER() OVER (ORDER BY a RANGE BETWEEN 6 PRECEDING AND CURRENT ROW) = 1',
      'LIMIT 5; SELECT TOP 5 * FROM GENERATE_SERIES(1, 5) s; SELECT * FROM (WITH x AS (SELECT 1 AS y) SELECT y FROM x) n',
    ].join('\n');
    const findings = portabilityFindings(bad, 'sql/x.sql');
    const expectFinding = (line: number, text: string) => expect(findings.some((f) => f.startsWith(`sql/x.sql:${line}: `) && f.includes(text)), `${line}: ${text}\n${findings.join('\n')}`).toBe(true);
    expectFinding(1, '`::`');
    expectFinding(2, '{{ add_days(d, n) }}');
    expectFinding(2, '`date_trunc(`');
    expectFinding(2, '{{ ln(x) }}');
    expectFinding(2, '{{ to_double(x) }}');
    expectFinding(2, '`util.`');
    expectFinding(3, 'COALESCE');
    expectFinding(3, 'CASE WHEN');
    expectFinding(3, 'CONCAT');
    expectFinding(3, 'TRUE');
    expectFinding(3, 'wall clock');
    expectFinding(4, 'DISTINCT FROM');
    expectFinding(4, 'ILIKE');
    expectFinding(5, 'QUALIFY');
    expectFinding(5, 'RANGE frame');
    expectFinding(6, 'LIMIT');
    expectFinding(6, '`TOP`');
    expectFinding(6, 'GENERATE_SERIES');
    expectFinding(6, 'nested WITH');
  });

  it('leaves strings, comments, ROWS frames, WITHIN GROUP and macros alone', () => {
    const fine = [
      "-- LIMIT, QUALIFY and x::int in a comment; DATEADD( too",
      "SELECT 'a::b, LIMIT 5, TRUE' AS s, {{ add_days(d, 1) }}, {{ percentile_cont(0.5, x, g) }}, {{ date_part('year', d) }},",
      '  SUM(x) OVER (PARTITION BY g ORDER BY d ROWS BETWEEN 6 PRECEDING AND CURRENT ROW),',
      '  SUM(x) OVER (ORDER BY d RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), COALESCE(a, 0)',
      'FROM t /* GENERATE_SERIES */',
    ].join('\n');
    expect(portabilityFindings(fine, 'sql/ok.sql')).toEqual([]);
  });
});
