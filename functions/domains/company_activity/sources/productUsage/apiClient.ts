/**
 * Client of the product-usage API (contract: docs/usage-api.md): fetches every page of one
 * activity date, validates each record, and retries what is worth retrying.
 *
 * Retries are a small helper here rather than `p-retry`: p-retry's backoff is
 * `min * factor^n * (1..2)` (not full jitter), and honouring Retry-After would mean zeroing its
 * delays and sleeping in `onFailedAttempt`, i.e. bypassing the library. The helper is:
 *
 * - retried: 408, 429, 5xx, network errors, timeouts (`timeoutMs` per request, body included),
 *   malformed JSON and pages that break the envelope contract;
 * - never retried: other 4xx (400, 401, 403, 404): they fail at once;
 * - delay before retry n (1-based): full jitter, `random() * min(retryMaxMs, retryBaseMs * 2^(n-1))`;
 *   on 429 / 503 with Retry-After (seconds or HTTP date) at least that long. Every delay is capped
 *   at `retryMaxMs`, so one invocation never sleeps for hours on a server's say-so;
 * - each page request is tried at most `maxAttempts` times;
 * - a repeated cursor (one already requested for this date) restarts the date from page 1; the
 *   records read so far are dropped, so nothing is emitted twice. A date is restarted at most
 *   `maxAttempts - 1` times.
 */
import type { IsoDate } from '../../../../core/dates.js';
import type { Log } from '../../../../core/log.js';
import { silentLog } from '../../../../core/log.js';
import { isUnresolvedKeyVaultReference, type Settings } from '../../../../core/settings.js';
import { dateWindow, type DateWindow, type DriftFinding } from '../../../../sources/contract.js';
import { checkPageEnvelope, MAX_PAGE_SIZE, openUsagePull, USAGE_API_PATH, USAGE_SOURCE, type UsageRecord } from './contract.js';

export interface UsageClientOptions {
  /** Base URL, e.g. `https://usage.example.com`; the client appends `/v1/usage`. */
  baseUrl: string;
  token: string;
  pageSize: number;
  /** Per request, headers and body included. */
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Where dates and timestamps in records must lie (INGEST_EARLIEST_DATE, INGEST_MAX_DAYS_AHEAD); default: those settings' defaults. */
  window?: DateWindow;
  log?: Log;
  /** Cancels the whole pull (not retried). */
  signal?: AbortSignal;
  /** Seams for tests: the HTTP client, the sleep between retries and the jitter source. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Client options from settings; fails with a clear message when the API is not configured. */
export function usageClientOptionsFromSettings(settings: Settings, extra: Partial<UsageClientOptions> = {}): UsageClientOptions {
  const baseUrl = settings.USAGE_API_BASE_URL;
  const token = settings.USAGE_API_TOKEN;
  if (!baseUrl || !token) throw new Error('The usage API is not configured: set USAGE_API_BASE_URL and USAGE_API_TOKEN.');
  if (isUnresolvedKeyVaultReference(token)) {
    throw new Error(
      'USAGE_API_TOKEN is a Key Vault reference the platform could not resolve: the secret is missing or the app identity lacks Key Vault Secrets User ' +
        '(the portal shows the reason under the function app\'s Environment variables; docs/deploy.md).',
    );
  }
  return {
    baseUrl,
    token,
    pageSize: settings.USAGE_API_PAGE_SIZE,
    timeoutMs: settings.USAGE_API_TIMEOUT_MS,
    maxAttempts: settings.USAGE_API_MAX_ATTEMPTS,
    retryBaseMs: settings.USAGE_API_RETRY_BASE_MS,
    retryMaxMs: settings.USAGE_API_RETRY_MAX_MS,
    window: dateWindow(settings),
    ...extra,
  };
}

/** A record the contract rejects, with where it was in the API's answer for the date. */
export interface UsageReject {
  /** 1-based position in the API's record order for the date (across pages). */
  line: number;
  field: string;
  reason: string;
  record: unknown;
}

export interface UsageDatePull {
  date: IsoDate;
  /** Valid records, in API order, each company at most once. */
  records: UsageRecord[];
  rejects: UsageReject[];
  /** Pages read in the pass that succeeded. */
  pages: number;
  /** HTTP requests made for this date, failed ones and restarted passes included (= pages when nothing went wrong). */
  attempts: number;
  /** Times the date was started over after a repeated cursor. */
  restarts: number;
  /** The request for the date, without cursor or credentials: what quarantine lines cite as `file`. */
  request: string;
  /** Schema drift in the records of the pass that succeeded: fields the contract does not know, changed types. */
  drift: DriftFinding[];
}

export class UsageApiError extends Error {
  override readonly name = 'UsageApiError';
  constructor(
    message: string,
    readonly date: IsoDate,
    readonly attempts: number,
    /** Last HTTP status, when there was an answer. */
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The base URL without credentials or trailing slash, safe to log. */
function displayBase(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/+$/, '');
}

/** Seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Delay before retry `retry` (1-based): full jitter, at least Retry-After, at most `retryMaxMs`. */
export function retryDelayMs(retry: number, options: Pick<UsageClientOptions, 'retryBaseMs' | 'retryMaxMs'>, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(retry - 1, 30));
  const jitter = Math.floor(random() * ceiling);
  return Math.min(options.retryMaxMs, Math.max(jitter, retryAfterMs ?? 0));
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type PageOutcome =
  | { kind: 'page'; records: unknown[]; nextCursor: string | null }
  | { kind: 'retry'; status: number | undefined; problem: string; retryAfterMs?: number }
  | { kind: 'fatal'; status: number; problem: string };

const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/** Fetches all pages of one activity date. Throws `UsageApiError` when the date cannot be read. */
export async function fetchUsageDate(date: IsoDate, options: UsageClientOptions): Promise<UsageDatePull> {
  if (!Number.isInteger(options.pageSize) || options.pageSize < 1 || options.pageSize > MAX_PAGE_SIZE) throw new Error(`page size must be 1..${MAX_PAGE_SIZE}`);
  const log = options.log ?? silentLog;
  const fetchImpl = options.fetch ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const base = options.baseUrl.replace(/\/+$/, '') + USAGE_API_PATH;
  const shownBase = displayBase(options.baseUrl) + USAGE_API_PATH;
  const query = `?date=${encodeURIComponent(date)}&page_size=${options.pageSize}`;
  const request = `GET ${shownBase}${query}`;
  const headers = { authorization: `Bearer ${options.token}`, accept: 'application/json' };
  let attempts = 0;

  const pageUrls = (cursor: string | null) => {
    const pageQuery = query + (cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`);
    return { url: base + pageQuery, shown: shownBase + pageQuery };
  };

  /** One HTTP request, classified. Throws only when the caller's signal aborted the pull. */
  const tryPage = async (url: string): Promise<PageOutcome> => {
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
    try {
      const res = await fetchImpl(url, { headers, signal });
      if (!res.ok) {
        const body = await res.text().catch(() => ''); // read it so the connection can be reused
        const problem = `HTTP ${res.status}${errorDetail(body)}`;
        if (!RETRYABLE_STATUS(res.status)) return { kind: 'fatal', status: res.status, problem };
        const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after')) : undefined;
        return { kind: 'retry', status: res.status, problem, retryAfterMs };
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        return { kind: 'retry', status: res.status, problem: `malformed JSON (${text.length} chars): ${(err as Error).message}` };
      }
      const checked = checkPageEnvelope(json);
      if ('problem' in checked) return { kind: 'retry', status: res.status, problem: `page breaks the contract: ${checked.problem}` };
      if (checked.page.date !== date) return { kind: 'retry', status: res.status, problem: `page is for ${checked.page.date}, not ${date}` };
      return { kind: 'page', records: checked.page.records, nextCursor: checked.page.next_cursor };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      const problem = e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `network error: ${e.message}${causeText(e)}`;
      return { kind: 'retry', status: undefined, problem };
    }
  };

  /** One page with retries. */
  const readPage = async (cursor: string | null) => {
    const { url, shown } = pageUrls(cursor);
    for (let attempt = 1; ; attempt++) {
      attempts++;
      const outcome = await tryPage(url);
      if (outcome.kind === 'page') return outcome;
      if (outcome.kind === 'fatal') {
        throw new UsageApiError(
          `${USAGE_SOURCE} ${date}: GET ${shown} failed with ${outcome.problem} (attempt ${attempt}, not retried)`,
          date,
          attempts,
          outcome.status,
          false,
        );
      }
      if (attempt >= options.maxAttempts) {
        throw new UsageApiError(
          `${USAGE_SOURCE} ${date}: giving up after ${attempt} attempts of GET ${shown}; last: ${outcome.problem}`,
          date,
          attempts,
          outcome.status,
          true,
        );
      }
      const delay = retryDelayMs(attempt, options, outcome.retryAfterMs, random);
      log.warn('usage API request failed; retrying', { date, attempt, status: outcome.status, problem: outcome.problem, delayMs: delay });
      await sleep(delay);
    }
  };

  for (let restarts = 0; ; restarts++) {
    const records: UsageRecord[] = [];
    const rejects: UsageReject[] = [];
    const file = openUsagePull(date, options.window); // the contract's checks, duplicates and drift for this pass
    const cursorsRequested = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    let line = 0;
    let repeated: string | undefined;

    for (;;) {
      const page = await readPage(cursor);
      pages++;
      for (const raw of page.records) {
        line++;
        const check = file.check(raw);
        if (check.ok) records.push(check.record);
        else rejects.push({ line, field: check.field, reason: check.reason, record: raw });
      }
      if (page.nextCursor === null) return { date, records, rejects, pages, attempts, restarts, request, drift: file.drift() };
      if (cursorsRequested.has(page.nextCursor)) {
        repeated = page.nextCursor;
        break;
      }
      cursorsRequested.add(page.nextCursor);
      cursor = page.nextCursor;
    }

    // A repeated cursor would loop or re-read pages: start the date over.
    if (restarts + 1 >= options.maxAttempts) {
      throw new UsageApiError(
        `${USAGE_SOURCE} ${date}: the API repeated cursor ${repeated} on ${restarts + 1} passes (${attempts} requests); giving up (${request})`,
        date,
        attempts,
        200,
        true,
      );
    }
    const delay = retryDelayMs(restarts + 1, options, undefined, random);
    log.warn('usage API repeated a cursor; restarting the date', { date, pass: restarts + 1, delayMs: delay });
    await sleep(delay);
  }
}

function errorDetail(body: string): string {
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return `: ${parsed.error.slice(0, 200)}`;
  } catch {
    // not JSON: show the start of it
  }
  return `: ${body.slice(0, 200)}`;
}

function causeText(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}
