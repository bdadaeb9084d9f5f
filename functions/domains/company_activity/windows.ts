import type { Settings } from '../../core/settings.js';

/** Days before a gold row that its windows read (7-day sums, churn inactivity window). */
export function lookbackDays(settings: Settings): number {
  return Math.max(6, settings.CHURN_INACTIVE_DAYS - 1);
}
