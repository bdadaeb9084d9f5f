/**
 * A small warehouse for the report tests, built through the real pipeline (upload ingest of a CRM
 * file, usage bronze files, the transform), whose figures are worked out by hand below. Two
 * company names are hostile: the report must show them as text.
 */
import { dateRange } from '../../functions/core/dates.js';
import { runUploadIngest } from '../../functions/ingest/uploadIngest.js';
import { runTransform, type TransformOutcome } from '../../functions/transform/transform.js';
import { putBlob, putUsageBronzeFile, type TestContext, type TestStorage } from './pipeline.js';

export const SCRIPT_NAME = '<script>alert("x")</script>';
export const IMG_NAME = 'Beta "><img src=x onerror=alert(1)>';

// A: 2 users and 20 events every day; never contacted.
// B: 5 users and 50 events on Jan 1-3, then nothing; last contacted 2023-11-01 (more than 30 days
//    before Jan 10, when its 7-day window empties): at churn risk from Jan 10.
// C: only in the CRM, never contacted: at churn risk every day.
// D: 1 user and 10 events every day; contacted 2024-01-05.
// B and C have hostile names (an <img> with a handler, a <script>): the churn list shows both.
export const FIXTURE_CRM = [
  'company_id,name,country,industry_tag,last_contact_at,snapshot_date',
  'A,Alpha,DE,saas,,2024-01-01',
  `B,"${IMG_NAME.replace(/"/g, '""')}",FR,retail,2023-11-01T09:00:00Z,2024-01-01`,
  `C,"${SCRIPT_NAME.replace(/"/g, '""')}",US,media,,2024-01-01`,
  'D,Delta,DE,saas,2024-01-05T10:00:00Z,2024-01-01',
].join('\n');

export const FIXTURE_FIRST_DAY = '2024-01-01';
export const FIXTURE_LAST_DAY = '2024-01-14';

export function fixtureUsage(date: string): { company_id: string; active_users: number; events: number }[] {
  const day = Number(date.slice(8, 10));
  return [
    { company_id: 'A', active_users: 2, events: 20 },
    ...(day <= 3 ? [{ company_id: 'B', active_users: 5, events: 50 }] : []),
    { company_id: 'D', active_users: 1, events: 10 },
  ];
}

/**
 * The figures on the last day (Jan 14) and 7 days earlier (Jan 7), by hand:
 * - active users: A 2 + D 1 = 3 on both days.
 * - events in the 7 days to the day: Jan 14: A 7×20 + D 7×10 = 210; Jan 7 (Jan 1-7): 140 + 70 + B 3×50 = 360.
 * - active companies (an active user in those 7 days): Jan 14: A, D = 2; Jan 7: A, B, D = 3.
 * - at churn risk: Jan 14: B, C = 2; Jan 7: C = 1 (B was active within its window).
 * - companies: 4 on every day (each has a CRM snapshot from Jan 1).
 * - events on Jan 14: A 20 + D 10 = 30.
 */
export const FIXTURE_FIGURES = {
  'company_activity.active_users': { value: 3, previous: 3 },
  'company_activity.events_7d': { value: 210, previous: 360 },
  'company_activity.active_companies': { value: 2, previous: 3 },
  'company_activity.companies_at_risk': { value: 2, previous: 1 },
} as const;

/** The churn list on Jan 14, in the report's order: never contacted first (C), then the oldest contact (B). */
export const FIXTURE_AT_RISK = [SCRIPT_NAME, IMG_NAME];

/** Uploads the CRM file, writes Jan 1-14's usage to bronze and runs the transform (which writes the report). */
export async function buildFixtureWarehouse(ctx: TestContext, storage: TestStorage): Promise<TransformOutcome> {
  await putBlob(storage.storage, 'landing', 'crm_company_daily/crm.csv', FIXTURE_CRM);
  await runUploadIngest(ctx, 'crm_company_daily/crm.csv');
  for (const d of dateRange(FIXTURE_FIRST_DAY, FIXTURE_LAST_DAY)) await putUsageBronzeFile(storage.storage, d, fixtureUsage(d));
  return runTransform(ctx);
}
