/**
 * Small, careful text operations on the portable SQL: find parameters, split statements and fill
 * integer template slots, all while skipping string literals, quoted identifiers and comments.
 */

type Segment = { code: boolean; text: string };

/** Splits SQL into code and non-code (strings, quoted identifiers, comments) segments. */
function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let codeStart = 0;
  const pushCode = (end: number) => {
    if (end > codeStart) out.push({ code: true, text: sql.slice(codeStart, end) });
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    let end = -1;
    if (c === "'" || c === '"' || c === '[') {
      const close = c === '[' ? ']' : c;
      end = i + 1;
      while (end < sql.length) {
        if (sql[end] === close) {
          if (sql[end + 1] === close) end += 2; // doubled quote escapes itself
          else break;
        } else end++;
      }
      end = Math.min(end + 1, sql.length);
    } else if (c === '-' && next === '-') {
      end = sql.indexOf('\n', i);
      end = end === -1 ? sql.length : end;
    } else if (c === '/' && next === '*') {
      end = sql.indexOf('*/', i + 2);
      end = end === -1 ? sql.length : end + 2;
    }
    if (end === -1) {
      i++;
      continue;
    }
    pushCode(i);
    out.push({ code: false, text: sql.slice(i, end) });
    i = end;
    codeStart = end;
  }
  pushCode(sql.length);
  return out;
}

const PARAM = /@([A-Za-z_][A-Za-z0-9_]*)/g;

/** Names of the `@name` parameters used (outside strings and comments). */
export function parameterNames(sql: string): string[] {
  const names = new Set<string>();
  for (const s of segments(sql)) if (s.code) for (const m of s.text.matchAll(PARAM)) names.add(m[1]!);
  return [...names];
}

/** Rewrites T-SQL style `@name` to DuckDB's `$name`. */
export function toDuckDbParameters(sql: string): string {
  return segments(sql)
    .map((s) => (s.code ? s.text.replace(PARAM, (_m, name: string) => `$${name}`) : s.text))
    .join('');
}

/** Splits a script into statements at top-level semicolons; drops empty ones and pure comments. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  for (const s of segments(sql)) {
    if (!s.code) {
      current += s.text;
      continue;
    }
    const parts = s.text.split(';');
    parts.forEach((part, idx) => {
      current += part;
      if (idx < parts.length - 1) {
        statements.push(current);
        current = '';
      }
    });
  }
  statements.push(current);
  return statements.map((st) => st.trim()).filter((st) => hasCode(st));
}

/** Splits a T-SQL script into batches at lines that hold only `GO`. */
export function splitBatches(sql: string): string[] {
  return sql
    .split(/^\s*GO\s*$/im)
    .map((b) => b.trim())
    .filter((b) => hasCode(b));
}

function hasCode(sql: string): boolean {
  return segments(sql).some((s) => s.code && s.text.trim().length > 0);
}

/**
 * Fills `{{name}}` slots with integers. Only used where SQL cannot take a parameter (window
 * frame offsets must be literals on both engines); the values come from validated settings,
 * never from input, and must be non-negative integers.
 */
export function fillIntegerSlots(sql: string, values: Record<string, number>): string {
  return sql.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`SQL template slot {{${name}}} has no value`);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`SQL template slot {{${name}}} must be a non-negative integer, got ${v}`);
    return String(v);
  });
}
