/**
 * The usage API client against the real local server (node:http on loopback): every failure mode
 * is survived with no record lost or duplicated; what must not be retried fails at once; what
 * keeps failing fails loudly. No Azurite here: nothing in this file touches storage.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dateRange } from '../functions/core/dates.js';
import { companyProfile, startUsageApiServer, usageFor, usageRecordsFor, type FailureMode, type UsageApiServer } from '../functions/local/usageApiServer.js';
import { fetchUsageDate, parseRetryAfter, retryDelayMs, UsageApiError, type UsageClientOptions } from '../functions/domains/company_activity/sources/productUsage/apiClient.js';
import { validateUsageRecord } from '../functions/domains/company_activity/sources/productUsage/contract.js';

const SEED = 7;
const COMPANIES = 120;
const TOKEN = 'test-token-abc123';
const DATE = '2025-03-04';
const PAGE_SIZE = 25;

let server: UsageApiServer;

function options(extra: Partial<UsageClientOptions> = {}): UsageClientOptions {
  return { baseUrl: server.url, token: TOKEN, pageSize: PAGE_SIZE, timeoutMs: 400, maxAttempts: 4, retryBaseMs: 1, retryMaxMs: 5, ...extra };
}

/** What a correct client returns for a date of a server without bad records. */
function expectedRecords(date: string, seed = SEED, companies = COMPANIES) {
  return usageRecordsFor(seed, companies, date).map((r) => ({ company_id: r.company_id, date: r.date, active_users: r.active_users, events: r.events }));
}

/** A fetch that switches the failure plan on after the first page, so failures hit a page in the middle of the date. */
function failAfterFirstPage(plan: Parameters<UsageApiServer['setFailures']>[0]): typeof fetch {
  let calls = 0;
  return async (input, init) => {
    const res = await fetch(input, init);
    if (++calls === 1) server.setFailures(plan);
    return res;
  };
}

beforeAll(async () => {
  server = await startUsageApiServer({ seed: SEED, companies: COMPANIES, token: TOKEN });
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => {
  server.setFailures([]);
  server.setDrift(undefined);
  server.requests.reset();
});

describe('local usage API data', () => {
  it('is a pure function of seed, company and date', () => {
    expect(usageFor(SEED, 5, DATE)).toEqual(usageFor(SEED, 5, DATE));
    expect(usageRecordsFor(SEED, COMPANIES, DATE)).toEqual(usageRecordsFor(SEED, COMPANIES, DATE));
    expect(usageRecordsFor(SEED + 1, COMPANIES, DATE)).not.toEqual(usageRecordsFor(SEED, COMPANIES, DATE));
  });

  it('has churners, late adopters and sparse users, and quieter weekends', () => {
    const n = 3000;
    const profiles = Array.from({ length: n }, (_, i) => companyProfile(SEED, i + 1));
    const churners = profiles.filter((p) => Number.isFinite(p.stopDay)).length / n;
    const sparse = profiles.filter((p) => p.activeDayShare < 1).length / n;
    const late = profiles.filter((p) => Number.isFinite(p.startDay)).length / n;
    expect(churners).toBeGreaterThan(0.07);
    expect(churners).toBeLessThan(0.13);
    expect(sparse).toBeGreaterThan(0.03);
    expect(sparse).toBeLessThan(0.07);
    expect(late).toBeGreaterThan(0.2);

    // A churner has usage before its stop day and none from it on.
    const index = profiles.findIndex((p) => Number.isFinite(p.stopDay) && p.stopDay > 20_100 && p.activeDayShare === 1 && !Number.isFinite(p.startDay)) + 1;
    expect(index).toBeGreaterThan(0);
    const stop = new Date(profiles[index - 1]!.stopDay * 86_400_000).toISOString().slice(0, 10);
    const after = dateRange(stop, new Date((profiles[index - 1]!.stopDay + 30) * 86_400_000).toISOString().slice(0, 10));
    expect(after.every((d) => usageFor(SEED, index, d) === undefined)).toBe(true);
    const before = dateRange(new Date((profiles[index - 1]!.stopDay - 14) * 86_400_000).toISOString().slice(0, 10), new Date((profiles[index - 1]!.stopDay - 1) * 86_400_000).toISOString().slice(0, 10));
    expect(before.some((d) => usageFor(SEED, index, d) !== undefined)).toBe(true);

    // Weekend days (2025-03-01 Sat, 03-02 Sun) have fewer active users than the weekdays after them.
    const total = (d: string) => usageRecordsFor(SEED, 500, d).reduce((s, r) => s + r.active_users, 0);
    expect(total('2025-03-01') + total('2025-03-02')).toBeLessThan(total('2025-03-04') + total('2025-03-05'));
  });

  it('injects every kind of invalid record when asked, deterministically', () => {
    const served = usageRecordsFor(SEED, 400, DATE, 0.2);
    const failures = served.map((r) => validateUsageRecord(r)).filter((c) => !c.ok);
    expect(new Set(failures.map((f) => (f.ok ? '' : f.field)))).toEqual(new Set(['company_id', 'active_users', 'events']));
    expect(served.some((r) => r.date !== DATE)).toBe(true);
    const ids = served.map((r) => r.company_id).filter((id) => id !== '');
    expect(new Set(ids).size).toBeLessThan(ids.length);
  });
});

describe('usage API client', () => {
  it('reads every page of a date in company order', async () => {
    const expected = expectedRecords(DATE);
    expect(expected.length).toBeGreaterThan(PAGE_SIZE * 2);
    const pull = await fetchUsageDate(DATE, options());
    expect(pull.records).toEqual(expected);
    expect(pull.rejects).toEqual([]);
    expect(pull.drift).toEqual([]);
    expect(pull.pages).toBe(Math.ceil(expected.length / PAGE_SIZE));
    expect(pull.attempts).toBe(pull.pages);
    expect(pull.request).toBe(`GET ${server.url}/v1/usage?date=${DATE}&page_size=${PAGE_SIZE}`);
    expect(server.requests.log.every((r) => r.status === 200 && r.date === DATE)).toBe(true);
  });

  it('returns no records for a date without data', async () => {
    const empty = await startUsageApiServer({ seed: SEED, companies: 0, token: TOKEN });
    try {
      const pull = await fetchUsageDate(DATE, { ...options(), baseUrl: empty.url });
      expect(pull).toMatchObject({ records: [], rejects: [], pages: 1, attempts: 1 });
    } finally {
      await empty.stop();
    }
  });

  const modes: { mode: FailureMode; retryAfterSeconds?: number }[] = [
    { mode: '429', retryAfterSeconds: 1 },
    { mode: '500' },
    { mode: '503', retryAfterSeconds: 1 },
    { mode: 'timeout' },
    { mode: 'malformed_json' },
  ];
  for (const { mode, retryAfterSeconds } of modes) {
    it(`survives ${mode} in the middle of a date with no loss and no duplicate`, async () => {
      const expected = expectedRecords(DATE);
      const pull = await fetchUsageDate(DATE, options({ fetch: failAfterFirstPage([{ mode, times: 2, retryAfterSeconds }]) }));
      expect(pull.records).toEqual(expected);
      expect(new Set(pull.records.map((r) => r.company_id)).size).toBe(pull.records.length);
      expect(server.pendingFailures()).toEqual([]);
      expect(server.requests.log.filter((r) => r.failure === mode)).toHaveLength(2);
      expect(pull.attempts).toBe(pull.pages + 2);
    });
  }

  it('reports fields the contract does not know as drift, and drops them from the records', async () => {
    const expected = expectedRecords(DATE);
    server.setDrift({ extraFields: { plan: 'pro', seats: 12 } });
    const pull = await fetchUsageDate(DATE, options());
    expect(pull.records).toEqual(expected); // exactly the declared fields
    expect(pull.rejects).toEqual([]);
    expect(pull.drift).toEqual([
      expect.objectContaining({ kind: 'new_column', column: 'plan', observed: 'string', example: '"pro"' }),
      expect.objectContaining({ kind: 'new_column', column: 'seats', observed: 'integer', example: '12' }),
    ]);
    expect(pull.drift[0]!.detail).toContain(`in ${expected.length} of ${expected.length} records`);
  });

  it('reports a field sent with another JSON type as a changed type, and rejects those records', async () => {
    const expected = expectedRecords(DATE);
    server.setDrift({ numbersAsStrings: ['events'] });
    const pull = await fetchUsageDate(DATE, options());
    expect(pull.records).toEqual([]);
    expect(pull.rejects).toHaveLength(expected.length);
    expect(pull.rejects.every((r) => r.field === 'events')).toBe(true);
    expect(pull.drift).toEqual([
      {
        kind: 'changed_type',
        column: 'events',
        expected: 'integer',
        observed: 'string',
        example: JSON.stringify(String(expected[0]!.events)),
        detail: `${expected.length} of ${expected.length} values of "events" are not integer (mostly string, e.g. "${expected[0]!.events}"); those records are quarantined`,
      },
    ]);
  });

  it('counts drift over the pass that succeeded only, when a repeated cursor restarts the date', async () => {
    const expected = expectedRecords(DATE);
    server.setDrift({ extraFields: { plan: 'pro' } });
    server.setFailures([{ mode: 'repeat_cursor', times: 1 }]);
    const pull = await fetchUsageDate(DATE, options());
    expect(pull.restarts).toBe(1);
    expect(pull.drift).toHaveLength(1);
    expect(pull.drift[0]!.detail).toContain(`in ${expected.length} of ${expected.length} records`);
  });

  it('restarts the date when the API repeats a cursor, without duplicates', async () => {
    const expected = expectedRecords(DATE);
    server.setFailures([{ mode: 'repeat_cursor', times: 1 }]);
    const pull = await fetchUsageDate(DATE, options());
    expect(server.pendingFailures()).toEqual([]);
    expect(pull.restarts).toBe(1);
    expect(pull.records).toEqual(expected);
    // First pass: page 1, page 2 (whose next_cursor repeats); second pass: every page.
    expect(pull.attempts).toBe(2 + pull.pages);
  });

  it('gives up on a cursor that keeps repeating, naming the date', async () => {
    server.setFailures([{ mode: 'repeat_cursor', times: 100 }]);
    const err = await fetchUsageDate(DATE, options({ maxAttempts: 3 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageApiError);
    expect((err as Error).message).toMatch(new RegExp(`${DATE}.*repeated cursor.*3 passes`));
  });

  it('fails at once on 401, naming the URL but not the token', async () => {
    const err = await fetchUsageDate(DATE, options({ token: 'wrong-token' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageApiError);
    const e = err as UsageApiError;
    expect(e.status).toBe(401);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`${server.url}/v1/usage?date=${DATE}`);
    expect(e.message).toContain('HTTP 401');
    expect(e.message).not.toContain('wrong-token');
    expect(server.requests.count).toBe(1);
  });

  it('fails at once on 400 with the API error text', async () => {
    const err = await fetchUsageDate('2025-02-30', options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageApiError);
    expect((err as UsageApiError).status).toBe(400);
    expect((err as Error).message).toMatch(/HTTP 400: date must be a calendar date/);
    expect(server.requests.count).toBe(1);
  });

  it('fails loudly when retries are exhausted: date, attempts and last status', async () => {
    server.setFailures([{ mode: '503', times: 50 }]);
    const err = await fetchUsageDate(DATE, options({ maxAttempts: 3 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageApiError);
    const e = err as UsageApiError;
    expect(e.message).toContain(DATE);
    expect(e.message).toContain('after 3 attempts');
    expect(e.message).toContain('HTTP 503');
    expect(e.status).toBe(503);
    expect(server.requests.count).toBe(3);
  });

  it('reports a timeout as the last problem when the API never answers', async () => {
    server.setFailures([{ mode: 'timeout', times: 50 }]);
    const err = await fetchUsageDate(DATE, options({ maxAttempts: 2, timeoutMs: 150 })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/after 2 attempts.*no answer within 150 ms/);
  });

  it('waits at least Retry-After on 429, and full jitter otherwise', async () => {
    const sleeps: number[] = [];
    server.setFailures([
      { mode: '429', times: 1, retryAfterSeconds: 7 },
      { mode: '500', times: 1 },
    ]);
    const recordSleep = (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    };
    const pull = await fetchUsageDate(DATE, options({ retryBaseMs: 100, retryMaxMs: 60_000, sleep: recordSleep, random: () => 0.5 }));
    expect(pull.records).toEqual(expectedRecords(DATE));
    // First retry honours Retry-After (7 s); the second is full jitter: 0.5 * 100 * 2^1.
    expect(sleeps).toEqual([7000, 100]);
  });

  it('quarantines invalid records with field and reason; accepted + rejected = received', async () => {
    const bad = await startUsageApiServer({ seed: SEED, companies: 300, token: TOKEN, badRecordRate: 0.15 });
    try {
      const served = usageRecordsFor(SEED, 300, DATE, 0.15);
      const pull = await fetchUsageDate(DATE, { ...options(), baseUrl: bad.url });
      expect(pull.records.length + pull.rejects.length).toBe(served.length);
      expect(pull.rejects.length).toBeGreaterThan(5);
      for (const r of pull.rejects) {
        expect(r.record).toEqual(served[r.line - 1]);
        expect(r.field).toMatch(/^(company_id|date|active_users|events)$/);
        expect(r.reason.length).toBeGreaterThan(0);
      }
      expect(new Set(pull.rejects.map((r) => r.field))).toEqual(new Set(['company_id', 'date', 'active_users', 'events']));
      expect(pull.rejects.some((r) => r.reason.includes('duplicate'))).toBe(true);
      expect(pull.rejects.some((r) => r.field === 'date' && r.reason.includes(DATE))).toBe(true);
      // Every accepted record is valid, for the date, once.
      expect(pull.records.every((r) => r.date === DATE && r.active_users >= 0 && Number.isInteger(r.events) && r.company_id !== '')).toBe(true);
      expect(new Set(pull.records.map((r) => r.company_id)).size).toBe(pull.records.length);
    } finally {
      await bad.stop();
    }
  });
});

describe('retry helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-03-04T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 04 Mar 2025 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 04 Mar 2025 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('caps every delay, Retry-After included, at the maximum', () => {
    const o = { retryBaseMs: 500, retryMaxMs: 2_000 };
    expect(retryDelayMs(10, o, undefined, () => 0.999)).toBeLessThanOrEqual(2_000);
    expect(retryDelayMs(1, o, 3_600_000, () => 0)).toBe(2_000);
    expect(retryDelayMs(3, o, undefined, () => 0)).toBe(0);
  });
});

describe('usage API server CLI', () => {
  it('runs as a child process and prints its URL as one JSON line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/usageApiServer.ts', '--seed', String(SEED), '--companies', '50', '--token', TOKEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const pull = await fetchUsageDate(DATE, { ...options(), baseUrl: url });
      expect(pull.records).toEqual(expectedRecords(DATE, SEED, 50));
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  });
});
