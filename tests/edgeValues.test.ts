/**
 * The smallest and largest value each contract accepts, through the real ingesters and the
 * transform to gold, on every engine: dates at both ends of the window, the longest text in
 * characters (emoji: two UTF-16 units each), active_users at its cap for the widest window the
 * churn rule can sum (CHURN_INACTIVE_DAYS = 366), events at 2^53 − 1. If a model cannot hold a
 * value the contracts accept, the transform fails here, not in production.
 */
import { describe, expect, it } from 'vitest';
import { addDays, dateRange, toIsoDate } from '../functions/core/dates.js';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { runUsageIngest } from '../functions/ingest/usageIngest.js';
import { MAX_ACTIVE_USERS, MAX_EVENTS, WIDEST_USAGE_WINDOW_DAYS } from '../functions/domains/company_activity/sources/productUsage/contract.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const EMOJI = '\u{1F600}';
const today = toIsoDate(new Date()); // the arrival date: Azurite stamps the upload's creation time
const yesterday = addDays(today, -1);
const tomorrow = addDays(today, 1);
const WIDE_ID = EMOJI.repeat(50); // company_id: text(50)
const EARLY_ID = 'E';

const CRM = [
  'company_id,name,country,industry_tag,last_contact_at,snapshot_date',
  // the earliest accepted date and timestamp
  `${EARLY_ID},Early,DE,saas,2000-01-01T00:00:00Z,2000-01-01`,
  // the longest text of every column, the latest accepted timestamp
  `${WIDE_ID},${EMOJI.repeat(200)},${EMOJI.repeat(50)},${EMOJI.repeat(100)},${tomorrow}T23:59:59.999Z,${yesterday}`,
  // the latest accepted snapshot date: the day after the file arrived
  `${WIDE_ID},Renamed,DE,saas,,${tomorrow}`,
].join('\n');

const testStorage = useTestStorage();

describe.each(ENGINES)('the largest and smallest accepted values reach gold on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it(
    'ingests, loads and builds them',
    async () => {
      const ctx = testContext({
        storage,
        warehouse: wh,
        now: new Date().toISOString(),
        env: {
          CHURN_INACTIVE_DAYS: String(WIDEST_USAGE_WINDOW_DAYS),
          USAGE_API_BASE_URL: 'http://usage.invalid',
          USAGE_API_TOKEN: 't',
          USAGE_FETCH_CONCURRENCY: '16',
        },
      });
      await putBlob(storage.storage, 'landing', 'crm_company_daily/edges.csv', CRM);
      const crm = await runUploadIngest(ctx, 'crm_company_daily/edges.csv');
      expect(crm).toMatchObject({ status: 'loaded', rowsAccepted: 3, rowsQuarantined: 0 });

      // every day of the widest churn window at the cap: its sum must still fit an INT
      const dates = dateRange(addDays(yesterday, -(WIDEST_USAGE_WINDOW_DAYS - 1)), yesterday);
      const api = ((url: string) => {
        const date = new URL(url).searchParams.get('date')!;
        const records = [{ company_id: WIDE_ID, date, active_users: MAX_ACTIVE_USERS, events: MAX_EVENTS }];
        return Promise.resolve(new Response(JSON.stringify({ date, records, next_cursor: null })));
      }) as unknown as typeof fetch;
      const usage = await runUsageIngest(ctx, { dates, client: { fetch: api } });
      expect(usage).toMatchObject({ accepted: dates.length, rejected: 0 });

      const outcome = await runTransform(ctx);
      expect(outcome.status).toBe('done');
      const failed = await wh.query<{ error: string }>(`SELECT error FROM ops.pipeline_runs WHERE kind = 'transform' AND status <> 'succeeded'`);
      expect(failed).toEqual([]);

      const [last] = await wh.query<{ company_id: string; company_name: string; country: string; industry_tag: string; active_users: number; active_users_7d: number; events: unknown; events_7d: unknown; is_churn_risk: unknown }>(
        `SELECT company_id, company_name, country, industry_tag, active_users, active_users_7d, events, events_7d, is_churn_risk
         FROM gold.fact_company_activity_daily WHERE company_id = @id AND activity_date = @d`,
        { id: WIDE_ID, d: yesterday },
      );
      expect(last).toMatchObject({ company_id: WIDE_ID, company_name: EMOJI.repeat(200), country: EMOJI.repeat(50), industry_tag: EMOJI.repeat(100) });
      expect(Number(last!.active_users)).toBe(MAX_ACTIVE_USERS);
      expect(Number(last!.active_users_7d)).toBe(7 * MAX_ACTIVE_USERS);
      expect(String(last!.events)).toBe(String(MAX_EVENTS));
      expect(String(last!.events_7d)).toBe((7n * BigInt(MAX_EVENTS)).toString());
      expect(Boolean(last!.is_churn_risk)).toBe(false);

      // the earliest date starts the company's days; the latest snapshot is a version from tomorrow
      const [early] = await wh.query<{ first_day: unknown; days: number }>(
        `SELECT MIN(activity_date) AS first_day, COUNT(*) AS days FROM gold.fact_company_activity_daily WHERE company_id = @id`,
        { id: EARLY_ID },
      );
      expect(toIsoDate(new Date(String(early!.first_day)))).toBe('2000-01-01');
      const versions = await wh.query<{ company_name: string; valid_from: unknown }>(
        `SELECT company_name, valid_from FROM silver.dim_company WHERE company_id = @id ORDER BY valid_from`,
        { id: WIDE_ID },
      );
      expect(versions.map((v) => [v.company_name, toIsoDate(new Date(String(v.valid_from)))])).toEqual([
        [EMOJI.repeat(200), yesterday],
        ['Renamed', tomorrow],
      ]);
    },
    180_000,
  );
});
