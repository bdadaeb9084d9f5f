/**
 * CRM company snapshot: CSV files dropped in `landing/crm_company_daily/`, one row per company
 * as the CRM saw it on `snapshot_date` (or, when the column is absent, on the day the file arrived).
 */
import { z } from 'zod';
import { isIsoDate } from '../../core/dates.js';
import { sqlTimestampText } from '../../core/context.js';
import { TABLES } from '../../warehouse/catalog.js';
import type { AcceptedRow, FileContext, RowProblem, UploadSource } from '../uploadSource.js';

const text = (max: number) => z.string().max(max, `longer than ${max} characters`);

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

/** UTC text for an ISO 8601 date or date-time, or undefined when it is not one. */
const normaliseTimestamp = memoised((v: string): string | undefined => {
  const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const isDateTime = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(v);
  if (!isDateOnly && !isDateTime) return undefined;
  if (isDateOnly && !isIsoDate(v)) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(v);
  const ms = Date.parse(isDateOnly ? `${v}T00:00:00Z` : `${v.replace(' ', 'T')}${hasZone ? '' : 'Z'}`);
  return Number.isNaN(ms) ? undefined : sqlTimestampText(new Date(ms));
});

const isValidDate = memoised(isIsoDate);

/**
 * ISO 8601 date or date-time (with `Z` or an offset; none means UTC), normalised to UTC text.
 * Empty means no value (for last_contact_at: never contacted).
 */
const optionalTimestampText = z.string().transform((value, ctx): string | null => {
  const v = value.trim();
  if (v === '') return null;
  const normalised = normaliseTimestamp(v);
  if (normalised === undefined) {
    ctx.addIssue({ code: 'custom', message: `not an ISO 8601 date or date-time: "${value}"` });
    return z.NEVER;
  }
  return normalised;
});

const rowSchema = z.object({
  company_id: text(100).min(1, 'empty'),
  name: text(400).min(1, 'empty'),
  country: text(100),
  industry_tag: text(200),
  last_contact_at: optionalTimestampText,
  snapshot_date: z.string().refine(isValidDate, { error: (issue) => `not a date as YYYY-MM-DD: "${String(issue.input)}"` }).optional(),
});

export const crmCompanyDaily: UploadSource = {
  name: 'crm_company_daily',
  requiredColumns: ['company_id', 'name', 'country', 'industry_tag', 'last_contact_at'],
  optionalColumns: ['snapshot_date'],
  bronzeTable: TABLES.bronzeCrmCompanyDaily,

  validateRow(record: Record<string, string>, file: FileContext): AcceptedRow | RowProblem {
    const trimmed: Record<string, string> = {};
    for (const [k, v] of Object.entries(record)) trimmed[k] = v.trim();
    const parsed = rowSchema.safeParse(trimmed);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { field: String(issue.path[0] ?? ''), reason: issue.message };
    }
    const r = parsed.data;
    const snapshotDate = r.snapshot_date ?? file.arrivalDate;
    return {
      businessDate: snapshotDate,
      values: {
        company_id: r.company_id,
        name: r.name,
        country: r.country === '' ? null : r.country,
        industry_tag: r.industry_tag === '' ? null : r.industry_tag,
        last_contact_at: r.last_contact_at,
        snapshot_date: snapshotDate,
      },
    };
  },
};
