/**
 * What the CRM exports have in common: their freshness limits, and the cross-field rule most of
 * them need (a timestamp that may not precede another one). Timestamps reach a rule as canonical
 * UTC text (`YYYY-MM-DD HH:MM:SS.mmm`), which sorts as time does.
 */
import type { RowRule } from '../../../sources/contract.js';
import type { SourceChecks } from '../../../quality/sourceChecks.js';
import type { FileContext } from '../../../sources/uploadSource.js';

/** Daily exports: a missed day is worth a look, three are an outage (as for the CRM company snapshots). */
export const CRM_EXPORT_CHECKS: SourceChecks = { freshness: { warnAfterHours: 30, errorAfterHours: 78 }, tests: [] };

/** `later` may not be before `earlier` (either may be empty: then there is nothing to compare). */
export function notBefore<Row extends Record<string, unknown>>(later: keyof Row & string, earlier: keyof Row & string): RowRule<Row, FileContext> {
  return {
    field: later,
    description: `${later} is not before ${earlier}`,
    check: (row) => {
      const a = row[later];
      const b = row[earlier];
      return typeof a === 'string' && typeof b === 'string' && a < b ? `${later} ${a} is before ${earlier} ${b}` : undefined;
    },
  };
}
