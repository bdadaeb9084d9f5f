/**
 * HTML built by a tagged template that escapes every interpolated value: markup exists only in
 * the templates' own text and in `Html` values made by them. A company name from an upload is a
 * string, so it is always text, whatever it contains. Values are formatted in one place.
 */
import type { Format } from './page.js';

/** A fragment of HTML made by `html` (or a trusted renderer): inserted as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function part(p: Part): string {
  if (p === null || p === undefined || p === false) return '';
  if (p instanceof Html) return p.text;
  if (Array.isArray(p)) return (p as readonly Part[]).map(part).join('');
  return escapeHtml(String(p));
}

/** `html\`<td>${name}</td>\``: `name` is escaped; an `Html` or an array of them is inserted as is. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += part(v) + strings[i + 1]!));
  return new Html(out);
}

// ---- values -----------------------------------------------------------------------------------

const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify(options);
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat('en-US', options)));
  return f;
}

const STATUS_SYMBOL: Record<string, string> = { pass: '✓', succeeded: '✓', warn: '!', error: '✗', failed: '✗', skipped: '–', running: '…' };

/** Any value from a query as plain text (a Date as ISO 8601, an object as JSON). */
function textOf(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A value as text, the way the report shows it (en-US grouping; UTC dates). */
export function formatValue(value: unknown, format: Format): string {
  if (value === null || value === undefined || value === '') return '—';
  switch (format.kind) {
    case 'text':
      return textOf(value);
    case 'status':
      return `${STATUS_SYMBOL[textOf(value)] ?? '•'} ${textOf(value)}`;
    case 'date':
      return value instanceof Date ? value.toISOString().slice(0, 10) : textOf(value).slice(0, 10);
    case 'datetime': {
      const d = value instanceof Date ? value : new Date(textOf(value));
      return Number.isNaN(d.getTime()) ? textOf(value) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    }
    default: {
      const n = Number(value);
      if (!Number.isFinite(n)) return textOf(value);
      if (format.kind === 'percent') {
        const d = format.decimals ?? 1;
        return `${numberFormat({ minimumFractionDigits: d, maximumFractionDigits: d }).format(n * 100)} %`;
      }
      if (format.kind === 'money') {
        const d = format.decimals ?? 0;
        return `${numberFormat({ minimumFractionDigits: d, maximumFractionDigits: d }).format(n)} ${format.currency}`;
      }
      const d = format.decimals ?? 0;
      const text = numberFormat({ minimumFractionDigits: d, maximumFractionDigits: d }).format(n);
      return format.unit ? `${text} ${format.unit}` : text;
    }
  }
}

/** Numbers right-aligned in tables. */
export function isNumeric(format: Format): boolean {
  return format.kind === 'number' || format.kind === 'percent' || format.kind === 'money';
}

/**
 * A change against the previous period, in words and a symbol (never colour alone): `▲ 12
 * (+8.5 %) vs 7 days earlier`. Percentages change in points. Undefined when there is nothing to
 * compare with.
 */
export function formatChange(value: number | null, previous: number | null, format: Format, better?: 'up' | 'down'): { text: string; tone: 'good' | 'bad' | 'flat' } | undefined {
  if (value === null || previous === null) return undefined;
  const delta = value - previous;
  if (delta === 0) return { text: '= no change', tone: 'flat' };
  const arrow = delta > 0 ? '▲' : '▼';
  const abs = Math.abs(delta);
  let text: string;
  if (format.kind === 'percent') {
    const d = format.decimals ?? 1;
    text = `${arrow} ${numberFormat({ minimumFractionDigits: d, maximumFractionDigits: d }).format(abs * 100)} pts`;
  } else {
    const amount = formatValue(abs, format);
    const relative = previous !== 0 ? ` (${delta > 0 ? '+' : '−'}${numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 1 }).format((abs / Math.abs(previous)) * 100)} %)` : '';
    text = `${arrow} ${amount}${relative}`;
  }
  const tone = !better ? 'flat' : (delta > 0) === (better === 'up') ? 'good' : 'bad';
  return { text, tone };
}
