/**
 * Which values a Bicep expression can take, worked out the way Bicep's type checker does for the
 * cases the contract needs: a literal is itself; `c ? a : b` is whatever either branch can be
 * (Bicep does not narrow a union on `==`: Azure/bicep#16564); a parameter with `@allowed` is any
 * allowed value; a variable is its expression. Anything else is unknown (undefined), and the
 * contract says so rather than guess.
 */
import { allowedValues, params, skipBalanced, variable } from './bicep.js';

export type Value = string | number | boolean;

/** Index just past the string starting at `i` (at a `'`). */
function skipString(text: string, i: number): number {
  if (text.startsWith("'''", i)) return text.indexOf("'''", i + 3) + 3;
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === "'") return j + 1;
    else if (text[j] === '$' && text[j + 1] === '{') j = skipBalanced(text, j + 1) - 1;
  }
  return text.length;
}

/** The expression without parentheses wrapping all of it. */
export function unwrap(expr: string): string {
  let e = expr.trim();
  while (e.startsWith('(') && skipBalanced(e, 0) === e.length) e = e.slice(1, -1).trim();
  return e;
}

/** `cond ? a : b` at the top level of `expr`, or undefined. `?.`, `.?`, `??` are not ternaries. */
export function splitTernary(expr: string): { cond: string; then: string; else: string } | undefined {
  const e = unwrap(expr);
  let question = -1;
  let depth = 0; // ternaries nested in the `then` branch
  for (let i = 0; i < e.length; i++) {
    const c = e[i]!;
    if (c === "'") i = skipString(e, i) - 1;
    else if (c === '(' || c === '[' || c === '{') i = skipBalanced(e, i) - 1;
    else if (c === '?') {
      if (e[i + 1] === '?' || e[i + 1] === '.' || e[i - 1] === '?' || e[i - 1] === '.') {
        if (e[i + 1] === '?') i++;
        continue;
      }
      if (question < 0) question = i;
      else depth++;
    } else if (c === ':' && question >= 0) {
      if (depth > 0) depth--;
      else return { cond: e.slice(0, question).trim(), then: e.slice(question + 1, i).trim(), else: e.slice(i + 1).trim() };
    }
  }
  return undefined;
}

const literal = (expr: string): Value | undefined => {
  const e = unwrap(expr);
  const s = /^'((?:[^'\\$]|\\.|\$(?!\{))*)'$/.exec(e);
  if (s) return s[1]!.replace(/\\(.)/g, '$1');
  if (/^-?\d+$/.test(e)) return Number(e);
  if (e === 'true' || e === 'false') return e === 'true';
  return undefined;
};

/**
 * The values `expr`, written in `code`, can take; undefined when that cannot be listed. `bind`
 * gives names a fixed value (e.g. `{ vnetEnabled: true }`), which also decides a ternary on them.
 */
export function possibleValues(expr: string, code: string, bind: Record<string, Value> = {}, depth = 0): Value[] | undefined {
  if (depth > 20) return undefined;
  const e = unwrap(expr);
  const lit = literal(e);
  if (lit !== undefined) return [lit];
  if (e in bind) return [bind[e]!];
  const t = splitTernary(e);
  if (t) {
    const decided = decide(t.cond, bind);
    if (decided !== undefined) return possibleValues(decided ? t.then : t.else, code, bind, depth + 1);
    const a = possibleValues(t.then, code, bind, depth + 1);
    const b = possibleValues(t.else, code, bind, depth + 1);
    return a && b ? [...new Set([...a, ...b])] : undefined;
  }
  if (/^\w+$/.test(e)) {
    const p = params(code).find((d) => d.name === e);
    if (p) return allowedValues(p);
    const v = variable(code, e);
    if (v !== undefined) return possibleValues(v, code, bind, depth + 1);
  }
  return undefined;
}

/** A condition that `bind` decides: `name`, `!name`, or `name == literal`; else undefined. */
export function decide(cond: string, bind: Record<string, Value>): boolean | undefined {
  const c = unwrap(cond);
  const not = /^!\s*(\w+)$/.exec(c);
  if (not && not[1]! in bind) return !bind[not[1]!];
  if (/^\w+$/.test(c) && c in bind) return Boolean(bind[c]);
  const eq = /^(\w+)\s*==\s*(.+)$/.exec(c);
  if (eq && eq[1]! in bind) {
    const v = literal(eq[2]!);
    return v === undefined ? undefined : bind[eq[1]!] === v;
  }
  return undefined;
}

/** The one value `expr` takes with `bind`, or undefined when it is not exactly one. */
export function valueWith(expr: string, code: string, bind: Record<string, Value>): Value | undefined {
  const values = possibleValues(expr, code, bind);
  return values?.length === 1 ? values[0] : undefined;
}
