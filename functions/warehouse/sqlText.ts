/**
 * Small, careful text operations on the portable SQL: render templates (macros and integer slots),
 * find parameters, split statements, all while skipping string literals, quoted identifiers and
 * comments.
 */

type Segment = { code: boolean; text: string };

/** Splits SQL into code and non-code (strings, quoted identifiers, comments) segments. */
function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let codeStart = 0;
  while (i < sql.length) {
    const end = nonCodeEnd(sql, i);
    if (end === -1) {
      i++;
      continue;
    }
    if (i > codeStart) out.push({ code: true, text: sql.slice(codeStart, i) });
    out.push({ code: false, text: sql.slice(i, end) });
    i = end;
    codeStart = end;
  }
  if (sql.length > codeStart) out.push({ code: true, text: sql.slice(codeStart) });
  return out;
}

/**
 * The SQL with every string literal, quoted identifier and comment blanked out (newlines kept),
 * so offsets and line numbers stay those of the original: for checks that look at code only.
 */
export function codeOnly(sql: string): string {
  return segments(sql)
    .map((s) => (s.code ? s.text : s.text.replace(/[^\n]/g, ' ')))
    .join('');
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

/** The end (exclusive) of the string literal, quoted identifier or comment starting at `i`, or -1. */
function nonCodeEnd(sql: string, i: number): number {
  const c = sql[i];
  const next = sql[i + 1];
  if (c === "'" || c === '"' || c === '[') {
    const close = c === '[' ? ']' : c;
    let end = i + 1;
    while (end < sql.length) {
      if (sql[end] === close) {
        if (sql[end + 1] === close) end += 2;
        else break;
      } else end++;
    }
    return Math.min(end + 1, sql.length);
  }
  if (c === '-' && next === '-') {
    const end = sql.indexOf('\n', i);
    return end === -1 ? sql.length : end;
  }
  if (c === '/' && next === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end === -1 ? sql.length : end + 2;
  }
  return -1;
}

/** The index of the `close` that balances the `open` just before `from`, skipping strings and comments. */
function matching(sql: string, from: number, open: string, close: string, what: string): number {
  let depth = 1;
  let i = from;
  while (i < sql.length) {
    const skip = nonCodeEnd(sql, i);
    if (skip !== -1) {
      i = skip;
      continue;
    }
    if (sql.startsWith(open, i)) {
      depth++;
      i += open.length;
    } else if (sql.startsWith(close, i)) {
      if (--depth === 0) return i;
      i += close.length;
    } else i++;
  }
  throw new Error(`SQL template: ${what} opened at offset ${from - open.length} is never closed`);
}

/** Splits a macro's argument list at top-level commas. */
function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const skip = nonCodeEnd(text, i);
    if (skip !== -1) {
      i = skip;
      continue;
    }
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  const last = text.slice(start).trim();
  if (last.length > 0 || args.length > 0) args.push(last);
  return args;
}

export interface TemplateValues {
  /** Expands `name(args…)`; `isMacro` says which names are macros. */
  macro: { isMacro(name: string): boolean; expand(name: string, args: string[]): string };
  /** Values of `{{ name }}` slots: integers only (see `renderTemplate`). */
  slots: Record<string, number>;
}

/** Expands every macro call in an expression (inside `{{ … }}`), innermost arguments first. */
function expandCalls(text: string, values: TemplateValues): string {
  let out = '';
  let i = 0;
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
  while (i < text.length) {
    const skip = nonCodeEnd(text, i);
    if (skip !== -1) {
      out += text.slice(i, skip);
      i = skip;
      continue;
    }
    ident.lastIndex = i;
    const m = /[A-Za-z_]/.test(text[i]!) && (i === 0 || !/[A-Za-z0-9_.@$]/.test(text[i - 1]!)) ? ident.exec(text) : null;
    if (!m) {
      out += text[i];
      i++;
      continue;
    }
    const name = m[0];
    let j = i + name.length;
    while (j < text.length && /\s/.test(text[j]!)) j++;
    if (text[j] === '(' && values.macro.isMacro(name)) {
      const close = matching(text, j + 1, '(', ')', `${name}(`);
      const args = splitArguments(text.slice(j + 1, close)).map((a) => expandCalls(a, values));
      out += values.macro.expand(name, args);
      i = close + 1;
    } else {
      out += name;
      i += name.length;
    }
  }
  return out;
}

/**
 * Renders a model's template text for one engine:
 * - `{{ macro(args…) }}`: the macro's native text (`warehouse/macros.ts`); inside the braces every
 *   call to a macro name is a macro, so they nest: `{{ add_days(month_start(d), -1) }}`;
 * - `{{ name }}`: an integer slot, for what SQL cannot take as a parameter (window frame offsets
 *   must be literals on both engines). Values come from validated settings, never from input, and
 *   must be non-negative integers.
 * Strings and comments are left as they are.
 */
export function renderTemplate(sql: string, values: TemplateValues): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const skip = nonCodeEnd(sql, i);
    if (skip !== -1) {
      out += sql.slice(i, skip);
      i = skip;
      continue;
    }
    if (!sql.startsWith('{{', i)) {
      out += sql[i];
      i++;
      continue;
    }
    const close = matching(sql, i + 2, '{{', '}}', '{{');
    const inner = sql.slice(i + 2, close).trim();
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) {
      const v = values.slots[inner];
      if (v === undefined) throw new Error(`SQL template slot {{${inner}}} has no value`);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`SQL template slot {{${inner}}} must be a non-negative integer, got ${v}`);
      out += String(v);
    } else {
      // the braces hold one macro call (its arguments may call more): a typo is an error, not SQL
      const call = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(inner);
      if (!call) throw new Error(`SQL template {{ ${inner} }}: expected a macro call or an integer slot name`);
      if (!values.macro.isMacro(call[1]!)) {
        values.macro.expand(call[1]!, []); // the expander names the known macros
        throw new Error(`unknown SQL macro ${call[1]}()`);
      }
      if (matching(inner, call[0].length, '(', ')', `${call[1]}(`) !== inner.length - 1) {
        throw new Error(`SQL template {{ ${inner} }}: expected one macro call, found text after its closing parenthesis`);
      }
      out += expandCalls(inner, values);
    }
    i = close + 2;
  }
  return out;
}

const TABLE_REFERENCE = /\b(bronze|silver|gold|ops|reporting)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\b/gi;

/** The schema-qualified tables a SQL text names (outside strings and comments), lower case, sorted. */
export function tableReferences(sql: string): string[] {
  const names = new Set<string>();
  for (const m of codeOnly(sql).matchAll(TABLE_REFERENCE)) names.add(`${m[1]!.toLowerCase()}.${m[2]!.toLowerCase()}`);
  return [...names].sort();
}
