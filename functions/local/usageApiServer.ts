/**
 * A local product-usage API that speaks the contract of docs/usage-api.md, for the local runner,
 * the tests and the benchmark. Its data is a pure function of a seed (no Math.random), so every
 * run, test and the sample CRM generator see the same companies and the same numbers.
 *
 * Tests switch failure modes on with `setFailures` (429, 5xx, a hung request, a truncated body,
 * a cursor that repeats), can inject invalid records with `badRecordRate`, and can make the
 * provider's schema drift with `drift` / `setDrift` (extra fields, numbers sent as strings).
 *
 * CLI (the benchmark runs it as a child process on the other core):
 *   tsx functions/local/usageApiServer.ts --seed 42 --companies 1000 --token x [--port 0] [--bad-record-rate 0]
 * prints `{"url":"http://127.0.0.1:PORT"}` as one line on stdout and serves until SIGTERM / SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { addDays, isIsoDate, type IsoDate } from '../core/dates.js';
import { MAX_PAGE_SIZE, USAGE_API_PATH } from '../domains/company_activity/sources/productUsage/contract.js';

// ---- deterministic data ---------------------------------------------------------------------

const DAY_MS = 86_400_000;
const MAX_COMPANIES = 999_999; // ids are `C` + 6 digits, so string order = index order
/** Companies that did not use the product from the start adopt it between these days. */
const ADOPTION_FROM = dayNumber('2023-01-01');
const ADOPTION_SPAN_DAYS = 1_095;
const RAMP_DAYS = 45;

// Salts keep the independent random draws of one (company, day) apart.
const SALT = { seats: 1, engagement: 2, eventsPerUser: 3, weekend: 4, adoption: 5, adoptionDay: 6, churn: 7, churnDay: 8, sparse: 9, sparseShare: 10, dayActive: 11, dayNoise: 12, dayRound: 13, dayEvents: 14, bad: 15, badKind: 16 } as const;

function dayNumber(date: IsoDate): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

// murmur3-style mixing of 32-bit integers: cheap, well spread, pure.
function mix(h: number, k: number): number {
  k = Math.imul(k | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
/** A uniform number in [0, 1) determined by (seed, a, b, salt). */
function unit(seed: number, a: number, b: number, salt: number): number {
  return finish(mix(mix(mix(seed | 0, a), b), salt)) / 4_294_967_296;
}

export function companyId(companyIndex: number): string {
  return `C${String(companyIndex).padStart(6, '0')}`;
}

/** What shapes a company's usage; derived from (seed, company index) alone. */
export interface CompanyProfile {
  /** Licensed users: the ceiling of daily active users (log-uniform, 3 to ~2,500). */
  seats: number;
  /** Share of seats active on an ordinary weekday, 0.15 to 0.7. */
  engagement: number;
  /** Average events per active user and day. */
  eventsPerUser: number;
  /** Weekend activity relative to weekdays: ~0.2 for most (B2B), ~0.9 for a fifth. */
  weekendFactor: number;
  /** First day (days since 1970-01-01) with usage; -Infinity for companies using it from the start. */
  startDay: number;
  /** First day without usage for good (churners, ~10%); +Infinity otherwise. */
  stopDay: number;
  /** Share of days with any usage: 1, or 0.15 to 0.45 for sparse users (~5%). */
  activeDayShare: number;
}

export function companyProfile(seed: number, companyIndex: number): CompanyProfile {
  const u = (salt: number) => unit(seed, companyIndex, 0, salt);
  const seats = Math.max(3, Math.round(3 * Math.exp(u(SALT.seats) * Math.log(830))));
  const startDay = u(SALT.adoption) < 0.7 ? -Infinity : ADOPTION_FROM + Math.floor(u(SALT.adoptionDay) * ADOPTION_SPAN_DAYS);
  const stopDay = u(SALT.churn) < 0.1 ? Math.max(startDay, ADOPTION_FROM) + 30 + Math.floor(u(SALT.churnDay) * 900) : Infinity;
  return {
    seats,
    engagement: 0.15 + 0.55 * u(SALT.engagement),
    eventsPerUser: 4 + Math.floor(56 * u(SALT.eventsPerUser)),
    weekendFactor: u(SALT.weekend) < 0.8 ? 0.1 + 0.2 * u(SALT.weekend + 100) : 0.8 + 0.2 * u(SALT.weekend + 100),
    startDay,
    stopDay,
    activeDayShare: u(SALT.sparse) < 0.05 ? 0.15 + 0.3 * u(SALT.sparseShare) : 1,
  };
}

export interface DailyUsage {
  active_users: number;
  events: number;
}

function usageOnDay(seed: number, companyIndex: number, day: number, p: CompanyProfile): DailyUsage | undefined {
  if (day < p.startDay || day >= p.stopDay) return undefined;
  if (p.activeDayShare < 1 && unit(seed, companyIndex, day, SALT.dayActive) >= p.activeDayShare) return undefined;
  const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  const dayFactor = weekday === 0 || weekday === 6 ? p.weekendFactor : 1;
  const ramp = day - p.startDay < RAMP_DAYS ? 0.2 + (0.8 * (day - p.startDay)) / RAMP_DAYS : 1;
  const noise = 0.7 + 0.6 * unit(seed, companyIndex, day, SALT.dayNoise);
  const expected = p.seats * p.engagement * ramp * dayFactor * noise;
  // Stochastic rounding keeps small companies' averages right instead of always rounding to 0.
  const active = Math.min(p.seats, Math.floor(expected + unit(seed, companyIndex, day, SALT.dayRound)));
  if (active <= 0) return undefined;
  const events = Math.max(active, Math.round(active * p.eventsPerUser * (0.5 + unit(seed, companyIndex, day, SALT.dayEvents))));
  return { active_users: active, events };
}

/**
 * The usage of company `companyIndex` (1-based, id `companyId(companyIndex)`) on `date`, or
 * undefined when it did not use the product that day. Pure: same inputs, same answer.
 */
export function usageFor(seed: number, companyIndex: number, date: IsoDate): DailyUsage | undefined {
  return usageOnDay(seed, companyIndex, dayNumber(date), companyProfile(seed, companyIndex));
}

export type BadRecordKind = 'negative_active_users' | 'empty_company_id' | 'fractional_events' | 'wrong_date' | 'duplicate';
const BAD_KINDS: BadRecordKind[] = ['negative_active_users', 'empty_company_id', 'fractional_events', 'wrong_date', 'duplicate'];

/** Which kind of bad record (if any) the server serves for this company and day. */
export function badRecordKind(seed: number, companyIndex: number, date: IsoDate, badRecordRate: number): BadRecordKind | undefined {
  if (badRecordRate <= 0) return undefined;
  const day = dayNumber(date);
  if (unit(seed, companyIndex, day, SALT.bad) >= badRecordRate) return undefined;
  return BAD_KINDS[Math.floor(unit(seed, companyIndex, day, SALT.badKind) * BAD_KINDS.length)];
}

/** A record as the server sends it; invalid ones included, hence the loose types. */
export interface WireRecord {
  company_id: string;
  date: string;
  active_users: number;
  events: number;
}

/**
 * Every record the API serves for `date`, in API order (by company id), bad records included.
 * A `duplicate` bad record is the valid record sent twice; the other kinds replace the valid one.
 */
export function usageRecordsFor(seed: number, companies: number, date: IsoDate, badRecordRate = 0, profiles?: CompanyProfile[]): WireRecord[] {
  const day = dayNumber(date);
  const out: WireRecord[] = [];
  for (let i = 1; i <= companies; i++) {
    const usage = usageOnDay(seed, i, day, profiles?.[i] ?? companyProfile(seed, i));
    if (!usage) continue;
    const record: WireRecord = { company_id: companyId(i), date, active_users: usage.active_users, events: usage.events };
    switch (badRecordKind(seed, i, date, badRecordRate)) {
      case undefined:
        break;
      case 'negative_active_users':
        record.active_users = -1 - record.active_users;
        break;
      case 'empty_company_id':
        record.company_id = '';
        break;
      case 'fractional_events':
        record.events += 0.5;
        break;
      case 'wrong_date':
        record.date = addDays(date, -1);
        break;
      case 'duplicate':
        out.push({ ...record });
        break;
    }
    out.push(record);
  }
  return out;
}

// ---- the HTTP server ------------------------------------------------------------------------

export type FailureMode = '429' | '500' | '503' | 'timeout' | 'malformed_json' | 'repeat_cursor';

export interface FailurePlan {
  mode: FailureMode;
  /** How many matching requests get this failure. */
  times: number;
  /** Retry-After header (seconds) for 429 (default 1) and 503 (none unless given). */
  retryAfterSeconds?: number;
  /** Only requests for these dates match; all dates when omitted. */
  dates?: string[];
}

export interface RequestLogEntry {
  date: string | null;
  cursor: string | null;
  pageSize: number | null;
  status: number;
  /** The injected failure, if any. */
  failure?: FailureMode;
  records?: number;
}

export interface UsageApiServerOptions {
  seed: number;
  companies: number;
  token: string;
  /** Loopback only. */
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** Share of (company, day) records served invalid, deterministically (default 0). */
  badRecordRate?: number;
  /** Schema drift to serve from the start (default none); `setDrift` changes it. */
  drift?: ServedDrift;
}

/** Schema drift as a provider might introduce it, applied to every record served. */
export interface ServedDrift {
  /** Fields added to every record (after the documented ones). */
  extraFields?: Record<string, string | number | boolean | null>;
  /** Numeric fields sent as JSON strings (`"41"` instead of `41`). */
  numbersAsStrings?: readonly ('active_users' | 'events')[];
}

/** A record as served under `drift`. */
export function withDrift(record: WireRecord, drift: ServedDrift): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const f of drift.numbersAsStrings ?? []) out[f] = String(record[f]);
  return Object.assign(out, drift.extraFields);
}

export interface UsageApiServer {
  url: string;
  /** Replaces the pending failure plan; each entry applies to the next `times` matching requests. */
  setFailures(plan: FailurePlan[]): void;
  /** Failures planned but not yet served. */
  pendingFailures(): FailurePlan[];
  /** Replaces the schema drift served (undefined: none). */
  setDrift(drift: ServedDrift | undefined): void;
  requests: { readonly count: number; readonly log: readonly RequestLogEntry[]; reset(): void };
  stop(): Promise<void>;
}

const DEFAULT_PAGE_SIZE = 1_000;
const DATE_CACHE_SIZE = 32;

function encodeCursor(date: string, offset: number): string {
  return Buffer.from(`${date}|${offset}`, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): { date: string; offset: number } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})\|(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? { date: m[1]!, offset: Number(m[2]) } : undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startUsageApiServer(options: UsageApiServerOptions): Promise<UsageApiServer> {
  const { seed, companies, token } = options;
  const host = options.host ?? '127.0.0.1';
  const badRecordRate = options.badRecordRate ?? 0;
  if (!LOOPBACK.has(host)) throw new Error(`usage API server: host must be loopback, got ${host}`);
  if (!Number.isInteger(companies) || companies < 0 || companies > MAX_COMPANIES) throw new Error(`usage API server: companies must be 0..${MAX_COMPANIES}`);
  if (!token) throw new Error('usage API server: a token is required');

  const profiles: CompanyProfile[] = [];
  for (let i = 1; i <= companies; i++) profiles[i] = companyProfile(seed, i);

  // A client reads a date page by page; keep the last few dates' records instead of rebuilding them per page.
  const dateCache = new Map<string, WireRecord[]>();
  const recordsOf = (date: string): WireRecord[] => {
    let records = dateCache.get(date);
    if (!records) {
      records = usageRecordsFor(seed, companies, date, badRecordRate, profiles);
      if (dateCache.size >= DATE_CACHE_SIZE) dateCache.delete(dateCache.keys().next().value!);
      dateCache.set(date, records);
    }
    return records;
  };

  let plan: FailurePlan[] = [];
  let drift: ServedDrift | undefined = options.drift;
  const log: RequestLogEntry[] = [];

  const takeFailure = (date: string, cursor: string | null): FailurePlan | undefined => {
    const entry = plan.find(
      (p) => p.times > 0 && (!p.dates || p.dates.includes(date)) && (p.mode !== 'repeat_cursor' || cursor !== null), // a first page has no cursor to repeat
    );
    if (entry) entry.times--;
    return entry;
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const entry: RequestLogEntry = { date: null, cursor: null, pageSize: null, status: 0 };
    log.push(entry);
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      sendJson(res, status, body, headers);
    };

    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== USAGE_API_PATH) return reply(404, { error: `not found: ${req.method} ${url.pathname}` });
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { error: 'missing or invalid bearer token' }, { 'www-authenticate': 'Bearer' });

    const date = url.searchParams.get('date');
    const pageSizeText = url.searchParams.get('page_size');
    const cursor = url.searchParams.get('cursor');
    entry.date = date;
    entry.cursor = cursor;
    if (!date || !isIsoDate(date)) return reply(400, { error: 'date must be a calendar date as YYYY-MM-DD' });
    const pageSize = pageSizeText === null ? DEFAULT_PAGE_SIZE : Number(pageSizeText);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) return reply(400, { error: `page_size must be an integer from 1 to ${MAX_PAGE_SIZE}` });
    entry.pageSize = pageSize;
    let offset = 0;
    if (cursor !== null) {
      const decoded = decodeCursor(cursor);
      if (!decoded || decoded.date !== date) return reply(400, { error: 'cursor is not valid for this date' });
      offset = decoded.offset;
    }

    const failure = takeFailure(date, cursor);
    if (failure) entry.failure = failure.mode;
    switch (failure?.mode) {
      case '429':
        return reply(429, { error: 'rate limited' }, { 'retry-after': String(failure.retryAfterSeconds ?? 1) });
      case '500':
        return reply(500, { error: 'internal error' });
      case '503':
        return reply(503, { error: 'unavailable' }, failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) });
      case 'timeout':
        // Accept and never answer; the socket closes when the client gives up (or on stop()).
        entry.status = -1;
        return;
      default:
        break;
    }

    const all = recordsOf(date);
    if (offset > all.length) return reply(400, { error: 'cursor is not valid for this date' });
    const slice = all.slice(offset, offset + pageSize);
    const served = drift;
    const records = served ? slice.map((r) => withDrift(r, served)) : slice;
    const end = offset + records.length;
    let nextCursor = end < all.length ? encodeCursor(date, end) : null;
    if (failure?.mode === 'repeat_cursor') nextCursor = cursor;
    entry.records = records.length;
    const body = JSON.stringify({ date, records, next_cursor: nextCursor });
    if (failure?.mode === 'malformed_json') {
      const truncated = Buffer.from(body, 'utf8').subarray(0, Math.floor(body.length / 2));
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': truncated.length });
      return res.end(truncated);
    }
    entry.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    setFailures(next) {
      plan = next.map((p) => ({ ...p }));
    },
    pendingFailures() {
      return plan.filter((p) => p.times > 0).map((p) => ({ ...p }));
    },
    setDrift(next) {
      drift = next;
    },
    requests: {
      get count() {
        return log.length;
      },
      log,
      reset() {
        log.length = 0;
      },
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung ('timeout') requests and idle keep-alive sockets would hold close() open.
        server.closeAllConnections();
      }),
  };
}

// ---- CLI ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '42' },
      companies: { type: 'string', default: '1000' },
      token: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'bad-record-rate': { type: 'string', default: '0' },
    },
  });
  const token = values.token ?? process.env.USAGE_API_TOKEN;
  if (!token) throw new Error('pass --token or set USAGE_API_TOKEN');
  const server = await startUsageApiServer({
    seed: Number(values.seed),
    companies: Number(values.companies),
    token,
    host: values.host,
    port: Number(values.port),
    badRecordRate: Number(values['bad-record-rate']),
  });
  process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
  const shutdown = () => void server.stop().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

const invokedAs = process.argv[1];
if (invokedAs && import.meta.url === pathToFileURL(path.resolve(invokedAs)).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
