/**
 * Just enough of a Bicep reader for the infrastructure contract test: no Bicep compiler is
 * reachable here, and the contract needs only declarations (resources, vars, params, outputs),
 * object entries and string literals, not evaluation.
 *
 * It understands comments, single-quoted strings with `\` escapes and `${…}` interpolation,
 * multi-line `'''…'''` strings, and nesting of `{}`, `[]` and `()`. Anything it cannot read makes
 * the contract test fail loudly rather than pass by accident.
 */

/** Index just past the string starting at `i` (which is at a `'`). */
function skipString(text: string, i: number): number {
  if (text.startsWith("'''", i)) {
    const end = text.indexOf("'''", i + 3);
    if (end < 0) throw new Error(`unterminated ''' string at offset ${i}`);
    return end + 3;
  }
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === "'") return j + 1;
    else if (c === '$' && text[j + 1] === '{') j = skipBalanced(text, j + 1) - 1;
  }
  throw new Error(`unterminated string at offset ${i}`);
}

const CLOSER: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

/** Index just past the bracket group opening at `open` (`{`, `[` or `(`), strings and nesting respected. */
export function skipBalanced(text: string, open: number): number {
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      i = skipString(text, i) - 1;
    } else if (c in CLOSER) {
      stack.push(CLOSER[c]!);
    } else if (c === '}' || c === ']' || c === ')') {
      if (stack.pop() !== c) throw new Error(`unbalanced '${c}' at offset ${i}`);
      if (stack.length === 0) return i + 1;
    }
  }
  throw new Error(`unclosed '${text[open]}' at offset ${open}`);
}

/** The text with comments blanked out (same length and line numbers; strings untouched). */
export function stripComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] === "'") {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** An expression starting at `start`: up to the end of its line, or of its bracket group when it opens one. */
function expressionAt(code: string, start: number): string {
  let i = start;
  while (code[i] === ' ' || code[i] === '\t') i++;
  let end = i;
  // an expression continues across lines only inside brackets or strings
  while (end < code.length && code[end] !== '\n') {
    const c = code[end]!;
    if (c === "'") end = skipString(code, end);
    else if (c in CLOSER) end = skipBalanced(code, end);
    else end++;
  }
  return code.slice(i, end).trim();
}

export interface ResourceDecl {
  symbol: string;
  type: string;
  apiVersion: string;
  existing: boolean;
  /** The `if (…)` condition's expression, when the resource is conditional. */
  condition?: string;
  /** The declaration's body: `{…}` or, for a loop, `[for … : {…}]`. */
  body: string;
  line: number;
}

const lineOf = (code: string, offset: number) => code.slice(0, offset).split('\n').length;

/** At `start` (after `=`): an optional `if (…)`, then the body. */
function conditionAndBody(code: string, start: number): { condition?: string; body: string } {
  let i = start;
  let condition: string | undefined;
  const m = /^if\s*\(/.exec(code.slice(i));
  if (m) {
    const open = i + m[0].length - 1;
    const close = skipBalanced(code, open);
    condition = code.slice(open + 1, close - 1).trim();
    i = close;
    while (/\s/.test(code[i] ?? '')) i++;
  }
  return { condition, body: code.slice(i, skipBalanced(code, i)) };
}

/** Top-level and nested `resource` declarations. Nested child types (`'config'`) have no `@`: their apiVersion is ''. */
export function resources(code: string): ResourceDecl[] {
  const found: ResourceDecl[] = [];
  const re = /^[ \t]*resource\s+(\w+)\s+'([^'@]+)(?:@([^']+))?'\s+(existing\s+)?=\s*/gm;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const { condition, body } = conditionAndBody(code, m.index + m[0].length);
    found.push({ symbol: m[1]!, type: m[2]!, apiVersion: m[3] ?? '', existing: Boolean(m[4]), condition, body, line: lineOf(code, m.index) });
  }
  return found;
}

export interface ModuleDecl {
  symbol: string;
  /** The module file, as written (relative to the file that declares it). */
  path: string;
  condition?: string;
  /** For a loop `[for x in <list>: {…}]`: the loop variable and the list's expression. */
  loop?: { item: string; list: string };
  /** The module's object (the loop's body for a loop). */
  body: string;
  /** The `params: {…}` entries: parameter → expression. */
  params: Map<string, string>;
  line: number;
}

/** `module` declarations, with their parameters. */
export function modules(code: string): ModuleDecl[] {
  const found: ModuleDecl[] = [];
  const re = /^module\s+(\w+)\s+'([^']+)'\s*=\s*/gm;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const { condition, body } = conditionAndBody(code, m.index + m[0].length);
    let object = body.trim();
    let loop: ModuleDecl['loop'];
    const l = /^\[\s*for\s+(?:\((\w+)\s*,\s*\w+\)|(\w+))\s+in\s+([\s\S]*?):\s*(\{[\s\S]*\})\s*\]$/.exec(object);
    if (l) {
      loop = { item: (l[1] ?? l[2])!, list: l[3]!.trim() };
      object = l[4]!;
    }
    const paramsText = entryAt(object, 'params');
    found.push({ symbol: m[1]!, path: m[2]!, condition, loop, body: object, params: paramsText ? objectEntries(paramsText) : new Map<string, string>(), line: lineOf(code, m.index) });
  }
  return found;
}

/** `var name = <expression>`, or undefined. */
export function variable(code: string, name: string): string | undefined {
  const m = new RegExp(`^[ \\t]*var\\s+${name}\\s*=`, 'm').exec(code);
  return m ? expressionAt(code, m.index + m[0].length) : undefined;
}

export interface Declaration {
  name: string;
  /** The declared type (`string`, `int`, …). */
  type: string;
  /** Default (params) or value (outputs), when there is one. */
  value?: string;
  /** Its decorators, each whole (a multi-line `@allowed([…])` included), such as `@secure()`. */
  decorators: string[];
}

/** Each line start that follows decorators → those decorators, whole (a multi-line `@allowed([…])` joined on one line). */
function decoratorsByLine(code: string): Map<number, string[]> {
  const found = new Map<number, string[]>();
  let pending: string[] = [];
  for (let i = 0; i < code.length; ) {
    const lineStart = i;
    while (code[i] === ' ' || code[i] === '\t') i++;
    if (code[i] === '@') {
      const open = code.indexOf('(', i);
      const end = skipBalanced(code, open);
      pending.push(code.slice(i, end).replace(/\s*\n\s*/g, ' '));
      i = end;
    } else if (code[i] !== '\n' && i < code.length) {
      if (pending.length) found.set(lineStart, pending);
      pending = [];
    }
    const next = code.indexOf('\n', i);
    i = next < 0 ? code.length : next + 1;
  }
  return found;
}

function declarations(code: string, keyword: 'param' | 'output'): Declaration[] {
  const out: Declaration[] = [];
  const decorators = decoratorsByLine(code);
  const re = new RegExp(`^[ \\t]*${keyword}\\s+(\\w+)\\s+(\\w+)(\\s*=)?`, 'gm');
  for (let m = re.exec(code); m; m = re.exec(code)) {
    out.push({ name: m[1]!, type: m[2]!, value: m[3] ? expressionAt(code, m.index + m[0].length) : undefined, decorators: decorators.get(m.index) ?? [] });
  }
  return out;
}

/** The values of an `@allowed([…])` decorator (strings unquoted, numbers as numbers), or undefined. */
export function allowedValues(d: Declaration): (string | number)[] | undefined {
  const dec = d.decorators.find((x) => x.startsWith('@allowed('));
  if (!dec) return undefined;
  const list = dec.slice('@allowed('.length, -1).trim();
  return [...list.matchAll(/'((?:[^'\\]|\\.)*)'|(-?\d+)/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
}

/** The number in `@minValue(n)`, or undefined. */
export function minValue(d: Declaration): number | undefined {
  const dec = d.decorators.find((x) => x.startsWith('@minValue('));
  return dec ? Number(dec.slice('@minValue('.length, -1)) : undefined;
}

export const params = (code: string) => declarations(code, 'param');
export const outputs = (code: string) => declarations(code, 'output');

/** The entries of an object literal `{…}`: key → value text (keys unquoted). */
export function objectEntries(objectText: string): Map<string, string> {
  const text = objectText.trim();
  if (!text.startsWith('{') || skipBalanced(text, 0) !== text.length) throw new Error(`not an object literal: ${text.slice(0, 60)}…`);
  const inner = text.slice(1, -1);
  const entries = new Map<string, string>();
  // split at newlines and commas outside brackets and strings
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < inner.length; ) {
    const c = inner[i]!;
    if (c === "'") i = skipString(inner, i);
    else if (c in CLOSER) i = skipBalanced(inner, i);
    else if (c === '\n' || c === ',') {
      parts.push(inner.slice(from, i));
      from = ++i;
    } else i++;
  }
  parts.push(inner.slice(from));
  // nested resource declarations and decorators are not entries
  for (const part of parts.map((p) => p.trim()).filter((p) => p && !/^resource\s/.test(p) && !p.startsWith('@'))) {
    const m = /^('(?:[^'\\]|\\.)*'|[\w$]+)\s*:\s*([\s\S]*)$/.exec(part);
    if (!m) throw new Error(`cannot read object entry: ${part.slice(0, 60)}`);
    entries.set(m[1]!.replace(/^'|'$/g, ''), m[2]!.trim());
  }
  return entries;
}

/** The value of a plain string literal (no interpolation), else undefined. */
export function stringLiteral(expr: string): string | undefined {
  const m = /^'((?:[^'\\$]|\\.|\$(?!\{))*)'$/.exec(expr.trim());
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/** The string literals of an array literal `['a', 'b']`. */
export function stringArray(expr: string): string[] {
  const text = expr.trim();
  if (!text.startsWith('[')) throw new Error(`not an array literal: ${text.slice(0, 60)}`);
  return [...text.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
}

/** Entry `path` (dotted) inside an object literal, e.g. `properties.allowSharedKeyAccess`. */
export function entryAt(objectText: string, path: string): string | undefined {
  let current: string | undefined = objectText;
  for (const key of path.split('.')) {
    if (current === undefined || !current.trim().startsWith('{')) return undefined;
    current = objectEntries(current).get(key);
  }
  return current;
}
