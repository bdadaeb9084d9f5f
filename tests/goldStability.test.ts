/**
 * The company activity gold of one fixed run, pinned by its hash: moving the models into their
 * domain folder, replacing the util functions by macros and building in graph order left every
 * row as it was. The run is fixed in time (a past date range, pulled whatever today is), so the
 * hash only changes when the models' answers change — then the change must be deliberate and this
 * pin updated with the reason in the commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLog } from '../functions/core/log.js';
import { LocalHost } from '../functions/local/localHost.js';
import { crmSampleCsv } from '../functions/local/sampleData.js';
import { startUsageApiServer } from '../functions/local/usageApiServer.js';
import { goldHash } from './support/pipeline.js';

const SEED = 7;
const COMPANIES = 30;
const DAYS = 21;
const START = '2026-09-01';
const END = '2026-09-21';

/** Computed by the code before the models moved (commit 9e1f8f5, and again after the macros commit). */
const PINNED = { hash: '3f2a29bf0308390fd7972806a84cf45aff7e66795eb47c5e937860742e37fbe9', rows: 644 };

describe('company activity gold of a fixed run', () => {
  it('hashes as it did before the models moved into their domain', async () => {
    const api = await startUsageApiServer({ seed: SEED, companies: COMPANIES, token: 'pin', badRecordRate: 0.01 });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-pin-'));
    const host = await LocalHost.start({
      dir,
      log: silentLog,
      env: { USAGE_API_BASE_URL: api.url, USAGE_API_TOKEN: 'pin', USAGE_START_DATE: START, USAGE_MAX_DATES_PER_RUN: String(DAYS), USAGE_API_RETRY_BASE_MS: '1' },
    });
    try {
      await host.upload('crm_company_daily/pinned.csv', crmSampleCsv({ seed: SEED, companies: COMPANIES, days: DAYS, endDate: END }).csv);
      await host.drainQueue('landingEvents');
      await host.fireUsageTimer();
      expect((await host.drainQueue('transformRequests')).failures).toBe(0);
      const gold = await goldHash(host.ctx.warehouse);
      expect(gold).toEqual(PINNED);
    } finally {
      await host.stop();
      await api.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
