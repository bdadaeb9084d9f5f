/**
 * The whole pipeline through the local host — the same handlers the Functions host fires — on
 * real Azurite, the local usage API and DuckDB: re-delivered triggers and re-runs change nothing,
 * and a crash in the middle is recovered by running again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, toIsoDate } from '../functions/core/dates.js';
import { silentLog } from '../functions/core/log.js';
import { blobCreatedEvent } from '../functions/ingest/landingEvents.js';
import { LocalHost } from '../functions/local/localHost.js';
import { crmSampleCsv } from '../functions/local/sampleData.js';
import { startUsageApiServer, type UsageApiServer } from '../functions/local/usageApiServer.js';
import { queue, sendJson } from '../functions/storage/blobStore.js';
import { goldHash } from './support/pipeline.js';

const SEED = 11;
const COMPANIES = 25;
const DAYS = 20;
const TOKEN = 'test-token';
const yesterday = addDays(toIsoDate(new Date()), -1);
const CRM = crmSampleCsv({ seed: SEED, companies: COMPANIES, days: DAYS, endDate: yesterday });
const CRM_PATH = 'crm_company_daily/export.csv';

let api: UsageApiServer;
const dirs: string[] = [];

beforeAll(async () => {
  api = await startUsageApiServer({ seed: SEED, companies: COMPANIES, token: TOKEN, badRecordRate: 0.01 });
});
afterAll(async () => {
  await api.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function freshHost(): Promise<LocalHost> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-e2e-'));
  dirs.push(dir);
  return LocalHost.start({
    dir,
    log: silentLog,
    env: {
      USAGE_API_BASE_URL: api.url,
      USAGE_API_TOKEN: TOKEN,
      USAGE_START_DATE: addDays(yesterday, -(DAYS - 1)),
      USAGE_MAX_DATES_PER_RUN: String(DAYS),
      USAGE_API_RETRY_BASE_MS: '1',
    },
  });
}

async function fullPass(host: LocalHost): Promise<void> {
  await host.upload(CRM_PATH, CRM.csv);
  await host.drainQueue('landingEvents');
  await host.fireUsageTimer();
  const t = await host.drainQueue('transformRequests');
  expect(t.failures).toBe(0);
}

describe('end to end on the local host', () => {
  it('gives the same gold for the same inputs, and re-delivered triggers change nothing', async () => {
    const first = await freshHost();
    let reference: { hash: string; rows: number };
    try {
      await fullPass(first);
      reference = await goldHash(first.ctx.warehouse);
      expect(reference.rows).toBeGreaterThan(COMPANIES * (DAYS - 3));
      const [q] = await first.ctx.warehouse.query<{ landed: number; quarantined: number; total: number }>(
        `SELECT SUM(rows_accepted) AS landed, SUM(rows_quarantined) AS quarantined, SUM(rows_total) AS total FROM ops.file_ingests`,
      );
      expect(q).toEqual({ landed: CRM.rows - CRM.badLines.length, quarantined: CRM.badLines.length, total: CRM.rows });

      // every trigger delivered again, twice: blob event, timer, queue (load and full rebuild)
      for (let i = 0; i < 2; i++) {
        await sendJson(queue(first.storage, 'landingEvents'), blobCreatedEvent(CRM_PATH, 'http://ignored'));
        await first.drainQueue('landingEvents');
        await first.fireUsageTimer();
        await sendJson(queue(first.storage, 'transformRequests'), { source: 'product_usage', from: addDays(yesterday, -(DAYS - 1)), to: yesterday, reason: 'test', mode: 'load' });
        await sendJson(queue(first.storage, 'transformRequests'), { source: 'product_usage', from: addDays(yesterday, -(DAYS - 1)), to: yesterday, reason: 'test', mode: 'rebuild' });
        await sendJson(queue(first.storage, 'transformRequests'), { source: 'crm_company_daily', from: addDays(yesterday, -(DAYS - 1)), to: yesterday, reason: 'test', mode: 'rebuild' });
        expect((await first.drainQueue('transformRequests')).failures).toBe(0);
      }
      expect(await goldHash(first.ctx.warehouse)).toEqual(reference);
      const [bronze] = await first.ctx.warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM bronze.crm_company_daily`);
      expect(bronze!.n).toBe(CRM.rows - CRM.badLines.length);
    } finally {
      await first.stop();
    }

    // the same inputs into a brand-new environment
    const second = await freshHost();
    try {
      await fullPass(second);
      expect(await goldHash(second.ctx.warehouse)).toEqual(reference);
    } finally {
      await second.stop();
    }
  });

  it('recovers from a crash in the middle of a transform by running again', async () => {
    const host = await freshHost();
    try {
      await host.upload(CRM_PATH, CRM.csv);
      await host.drainQueue('landingEvents');
      await host.fireUsageTimer();
      // the gold step fails: its table is gone, as if the process died half way
      await host.ctx.warehouse.exec(`ALTER TABLE gold.fact_company_activity_daily RENAME TO fact_company_activity_daily_away`);
      const failed = await host.drainQueue('transformRequests', { retryDelaySeconds: 0 });
      expect(failed.failures).toBeGreaterThan(0);
      expect(failed.poisoned).toBeGreaterThan(0);
      const runs = await host.ctx.warehouse.query<{ status: string; error: string | null }>(`SELECT status, error FROM ops.pipeline_runs WHERE kind = 'transform'`);
      expect(runs.some((r) => r.status === 'failed' && /fact_company_activity_daily/.test(r.error ?? ''))).toBe(true);
      const [pending] = await host.ctx.warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ops.transform_requests WHERE status = 'pending'`);
      expect(pending!.n).toBeGreaterThan(0); // nothing was marked done

      // fixed; the next trigger of any kind picks the work up
      await host.ctx.warehouse.exec(`ALTER TABLE gold.fact_company_activity_daily_away RENAME TO fact_company_activity_daily`);
      await sendJson(queue(host.storage, 'transformRequests'), { source: 'product_usage', from: yesterday, to: yesterday, reason: 'retry' });
      expect((await host.drainQueue('transformRequests')).failures).toBe(0);

      const reference = await freshHost();
      try {
        await fullPass(reference);
        expect(await goldHash(host.ctx.warehouse)).toEqual(await goldHash(reference.ctx.warehouse));
      } finally {
        await reference.stop();
      }
    } finally {
      await host.stop();
    }
  });
});
