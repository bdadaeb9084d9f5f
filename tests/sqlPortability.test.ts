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
