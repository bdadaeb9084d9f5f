/**
 * The Application Insights sender against a local server that speaks the Track contract
 * (POST /v2.1/track, a JSON array of envelopes, answered with itemsReceived / itemsAccepted /
 * errors) and can fail on purpose: 5xx, 429, a 206 with items rejected, a reset connection, a
 * redirect, and a port nobody listens on.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryLog } from '../functions/core/log.js';
import { loadSettings } from '../functions/core/settings.js';
import { EVENTS, METRICS, noTelemetry } from '../functions/core/telemetry.js';
import {
  AppInsightsTelemetry,
  INGESTION_SCOPE,
  parseAuthenticationString,
  parseConnectionString,
  telemetryFromSettings,
  TelemetryConfigError,
  type AppInsightsTelemetryOptions,
  type Envelope,
} from '../functions/telemetry/appInsightsTelemetry.js';

// ---------------------------------------------------------------------------------------------
// A local Track endpoint
// ---------------------------------------------------------------------------------------------

/** What the server answers to the next request; `ok` accepts everything. */
type Reply =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  /** 206: the items at these indexes fail with these statuses, the others are accepted. */
  | { kind: 'partial'; errors: { index: number; statusCode: number }[] }
  /** Drops the connection without an answer. */
  | { kind: 'reset' }
  | { kind: 'redirect'; location: string };

interface TrackRequest {
  path: string;
  headers: IncomingHttpHeaders;
  items: Envelope[];
  status: number;
}

interface TrackServer {
  endpoint: string;
  requests: TrackRequest[];
  /** Items the server accepted (200, or not in a 206's errors), in arrival order. */
  accepted: Envelope[];
  /** Replies for the next requests, in order; after them, `fallback`. */
  plan(...replies: Reply[]): void;
  fallback: Reply;
  /** Resolves once this many requests have been answered. */
  requestsDone(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startTrackServer(): Promise<TrackServer> {
  const planned: Reply[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const state: TrackServer = {
    endpoint: '',
    requests: [],
    accepted: [],
    fallback: { kind: 'ok' },
    plan: (...replies) => void planned.push(...replies),
    requestsDone: (count) => (state.requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const answered = () => {
    for (const w of [...waiters]) {
      if (state.requests.length < w.count) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = planned.shift() ?? state.fallback;
      if (reply.kind === 'reset') {
        state.requests.push({ path: req.url ?? '', headers: req.headers, items: [], status: 0 });
        req.socket.destroy();
        answered();
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v2.1/track') {
        res.writeHead(404).end();
        state.requests.push({ path: req.url ?? '', headers: req.headers, items: [], status: 404 });
        answered();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const items = JSON.parse(body.toString('utf8')) as Envelope[];
      const answer = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
        state.requests.push({ path: req.url ?? '', headers: req.headers, items, status });
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(json === undefined ? '' : JSON.stringify(json));
        answered();
      };
      if (!Array.isArray(items)) return answer(400, { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400, message: 'expected an array' }] });
      switch (reply.kind) {
        case 'ok':
          state.accepted.push(...items);
          return answer(200, { itemsReceived: items.length, itemsAccepted: items.length, errors: [] });
        case 'status':
          return answer(reply.status, { itemsReceived: items.length, itemsAccepted: 0, errors: items.map((_, index) => ({ index, statusCode: reply.status, message: 'planned failure' })) });
        case 'partial': {
          const failing = new Set(reply.errors.map((e) => e.index));
          state.accepted.push(...items.filter((_, i) => !failing.has(i)));
          return answer(206, { itemsReceived: items.length, itemsAccepted: items.length - failing.size, errors: reply.errors.map((e) => ({ ...e, message: 'planned item failure' })) });
        }
        case 'redirect':
          return answer(308, undefined, { Location: reply.location });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return state;
}

/** A port on which nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

const IKEY = '0f9d3c2e-1b2a-4c5d-8e7f-a1b2c3d4e5f6';
const connectionString = (endpoint: string, ikey = IKEY) => `InstrumentationKey=${ikey};IngestionEndpoint=${endpoint};LiveEndpoint=https://live.example/;ApplicationId=app-1`;

function fakeCredential(token: string): TokenCredential & { scopes: (string | string[])[] } {
  const scopes: (string | string[])[] = [];
  return {
    scopes,
    getToken: (scope: string | string[]): Promise<AccessToken> => {
      scopes.push(scope);
      return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

let server: TrackServer;
let log: ReturnType<typeof memoryLog>;

beforeEach(async () => {
  server = await startTrackServer();
  log = memoryLog();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await server.close();
});

function telemetry(options: AppInsightsTelemetryOptions = {}, endpoint = server.endpoint): AppInsightsTelemetry {
  return new AppInsightsTelemetry(connectionString(endpoint), { log, retryDelaysMs: [1, 1], requestTimeoutMs: 5_000, ...options });
}

const warnings = () => log.lines.filter((l) => l.level === 'warn');
const metricData = (e: Envelope) => (e.data.baseType === 'MetricData' ? e.data.baseData : undefined);
const eventData = (e: Envelope) => (e.data.baseType === 'EventData' ? e.data.baseData : undefined);

// ---------------------------------------------------------------------------------------------

describe('AppInsightsTelemetry envelopes', () => {
  it('sends a metric as a Metric envelope with its name, value and dimensions', async () => {
    vi.stubEnv('WEBSITE_SITE_NAME', 'func-pipeline-test');
    const t = telemetry();
    const before = Date.now();
    t.metric(METRICS.rowsLanded, 1234, { source: 'crm_company_daily' });
    await t.flush();

    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.path).toBe('/v2.1/track');
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.headers.authorization).toBeUndefined();
    expect(server.accepted).toHaveLength(1);
    const envelope = server.accepted[0]!;
    expect(envelope).toMatchObject({ name: 'Microsoft.ApplicationInsights.Metric', iKey: IKEY, data: { baseType: 'MetricData' } });
    expect(metricData(envelope)).toEqual({ ver: 2, metrics: [{ name: METRICS.rowsLanded, value: 1234, count: 1, kind: 'Aggregation' }], properties: { source: 'crm_company_daily' } });
    expect(envelope.tags['ai.cloud.role']).toBe('func-pipeline-test');
    expect(envelope.tags['ai.cloud.roleInstance']).toEqual(expect.any(String));
    expect(envelope.tags['ai.cloud.roleInstance']!.length).toBeGreaterThan(0);
    expect(new Date(envelope.time).toISOString()).toBe(envelope.time);
    expect(Date.parse(envelope.time)).toBeGreaterThanOrEqual(before - 1);
  });

  it('sends an event as an Event envelope: properties as strings, numbers also as measurements, empty values left out', async () => {
    const t = telemetry();
    const props = { runId: 'r-42', kind: 'transform', durationMs: 1500, rowsIn: 0, ok: true, error: null, note: undefined };
    t.event(EVENTS.runFinished, props);
    await t.flush();

    expect(server.accepted).toHaveLength(1);
    const envelope = server.accepted[0]!;
    expect(envelope).toMatchObject({ name: 'Microsoft.ApplicationInsights.Event', iKey: IKEY, data: { baseType: 'EventData' } });
    expect(eventData(envelope)).toEqual({
      ver: 2,
      name: EVENTS.runFinished,
      properties: { runId: props.runId, kind: props.kind, durationMs: String(props.durationMs), rowsIn: String(props.rowsIn), ok: String(props.ok) },
      measurements: { durationMs: props.durationMs, rowsIn: props.rowsIn },
    });
    expect(envelope.tags['ai.cloud.roleInstance']).toEqual(expect.any(String));
  });

  it('leaves ai.cloud.role out when WEBSITE_SITE_NAME is not set', async () => {
    vi.stubEnv('WEBSITE_SITE_NAME', '');
    const t = telemetry();
    t.metric(METRICS.runCompleted, 1, { kind: 'transform', status: 'succeeded' });
    await t.flush();
    expect(server.accepted[0]?.tags).not.toHaveProperty('ai.cloud.role');
  });

  it('takes the iKey and the endpoint from the connection string (trailing slash or not, any key case)', async () => {
    const otherKey = '11111111-2222-3333-4444-555555555555';
    const t = new AppInsightsTelemetry(`instrumentationkey=${otherKey};ingestionendpoint=${server.endpoint.replace(/\/$/, '')}`, { log });
    t.metric(METRICS.rowsLoaded, 7, { source: 'product_usage' });
    await t.flush();
    expect(server.requests.map((r) => r.path)).toEqual(['/v2.1/track']);
    expect(server.accepted.map((e) => e.iKey)).toEqual([otherKey]);
  });

  it('sends many items in batches, a full batch without waiting for flush', async () => {
    const t = telemetry({ maxBatchSize: 3 });
    for (let i = 0; i < 7; i++) t.metric(METRICS.stageDuration, i, { stage: 'load', status: 'succeeded' });
    await server.requestsDone(2); // two full batches went out on their own
    expect(server.requests.map((r) => r.items.length)).toEqual([3, 3]);
    await t.flush();
    expect(server.requests.map((r) => r.items.length)).toEqual([3, 3, 1]);
    expect(server.accepted.map((e) => metricData(e)?.metrics[0]?.value)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('sends nothing when there is nothing to send', async () => {
    const t = telemetry();
    await t.flush();
    expect(server.requests).toEqual([]);
  });
});

describe('AppInsightsTelemetry with Entra auth', () => {
  it('sends a Bearer token obtained for the monitor.azure.com scope', async () => {
    const token = 'fake-entra-token-xyz';
    const credential = fakeCredential(token);
    const t = telemetry({ credential });
    t.event(EVENTS.fileRejected, { runId: 'r1', source: 'crm_company_daily', file: 'a.csv', reason: 'missing column' });
    await t.flush();
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(credential.scopes.length).toBeGreaterThan(0);
    for (const scope of credential.scopes) expect([scope].flat()).toEqual(['https://monitor.azure.com//.default']);
    expect(INGESTION_SCOPE).toBe('https://monitor.azure.com//.default');
  });

  it('drops the batch with one warning, never the token, when the credential fails', async () => {
    const t = telemetry({ credential: { getToken: () => Promise.reject(new Error('IMDS unavailable: secret-looking-detail')) } });
    t.metric(METRICS.rowsLanded, 1, { source: 'x' });
    await t.flush();
    expect(server.requests).toEqual([]);
    expect(warnings()).toHaveLength(1);
    expect(JSON.stringify(warnings())).not.toContain('secret-looking-detail');
  });
});

describe('AppInsightsTelemetry failures', () => {
  it('retries a 500 and a 429, and the items arrive exactly once', async () => {
    server.plan({ kind: 'status', status: 500 }, { kind: 'status', status: 429 });
    const t = telemetry();
    t.metric(METRICS.rowsLanded, 10, { source: 'a' });
    t.event(EVENTS.poisonMessage, { queue: 'transform-requests', message: 'x' });
    await t.flush();
    expect(server.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    expect(server.accepted.map((e) => e.name)).toEqual(['Microsoft.ApplicationInsights.Metric', 'Microsoft.ApplicationInsights.Event']);
    expect(warnings()).toEqual([]);
  });

  it('retries after a dropped connection', async () => {
    server.plan({ kind: 'reset' });
    const t = telemetry();
    t.metric(METRICS.schemaDrift, 1, { source: 's', kind: 'new_column' });
    await t.flush();
    expect(server.requests.map((r) => r.status)).toEqual([0, 200]);
    expect(server.accepted).toHaveLength(1);
    expect(warnings()).toEqual([]);
  });

  it('on a 206 resends only the items rejected as retriable, and drops the others with one warning', async () => {
    server.plan({ kind: 'partial', errors: [{ index: 1, statusCode: 500 }, { index: 3, statusCode: 400 }] });
    const t = telemetry();
    for (let i = 0; i < 5; i++) t.metric(METRICS.rowsLoaded, i, { source: 'product_usage' });
    await t.flush();

    expect(server.requests.map((r) => r.status)).toEqual([206, 200]);
    expect(server.requests[1]?.items.map((e) => metricData(e)?.metrics[0]?.value)).toEqual([1]);
    const values = server.accepted.map((e) => metricData(e)?.metrics[0]?.value).sort();
    expect(values).toEqual([0, 1, 2, 4]); // 3 was rejected for good, 1 arrived once
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.message).toMatch(/dropped 1 item/);
  });

  it('drops a batch that keeps failing with a single warning, and flush still resolves', async () => {
    server.fallback = { kind: 'status', status: 503 };
    const token = 'token-that-must-not-be-logged';
    const t = telemetry({ credential: fakeCredential(token) });
    t.metric(METRICS.rowsLanded, 1, { source: 'a' });
    t.metric(METRICS.rowsQuarantined, 2, { source: 'a' });
    await expect(t.flush()).resolves.toBeUndefined();

    expect(server.requests).toHaveLength(3); // the first attempt and two retries
    expect(server.accepted).toEqual([]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.message).toMatch(/dropped 2 item/);
    const logged = JSON.stringify(log.lines);
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(IKEY);

    // Once the service is back, later items go through and nothing old is resent.
    server.fallback = { kind: 'ok' };
    t.metric(METRICS.runCompleted, 1, { kind: 'transform', status: 'succeeded' });
    await t.flush();
    expect(server.accepted.map((e) => metricData(e)?.metrics[0]?.name)).toEqual([METRICS.runCompleted]);
    expect(warnings()).toHaveLength(1);
  });

  it('does not retry what the service refuses for good (400)', async () => {
    server.fallback = { kind: 'status', status: 400 };
    const t = telemetry();
    t.metric(METRICS.rowsLanded, 1, { source: 'a' });
    await t.flush();
    expect(server.requests).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
  });

  it('survives an endpoint nobody listens on: one warning, flush resolves', async () => {
    const port = await closedPort();
    const t = telemetry({}, `http://127.0.0.1:${port}/`);
    t.event(EVENTS.sourceStale, { source: 'product_usage', status: 'error', lagHours: 50 });
    await expect(t.flush()).resolves.toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.message).toMatch(/dropped 1 item/);
  });

  it('follows a 308 to the new host, with the token, and keeps using it', async () => {
    const target = await startTrackServer();
    try {
      server.plan({ kind: 'redirect', location: `${target.endpoint}v2.1/track` });
      const token = 'redirect-token';
      const t = telemetry({ credential: fakeCredential(token) });
      t.metric(METRICS.rowsLanded, 5, { source: 'a' });
      await t.flush();
      t.metric(METRICS.rowsLanded, 6, { source: 'a' });
      await t.flush();
      expect(server.requests.map((r) => r.status)).toEqual([308]);
      expect(target.accepted.map((e) => metricData(e)?.metrics[0]?.value)).toEqual([5, 6]);
      expect(target.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
      expect(warnings()).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it('caps the buffer: the oldest items are dropped, with a warning', async () => {
    const t = telemetry({ maxBatchSize: 10, maxBufferSize: 20 });
    // A synchronous burst: nothing can be sent before it ends, so the buffer hits its cap.
    for (let i = 0; i < 25; i++) t.metric(METRICS.stageDuration, i, { stage: 'model', status: 'succeeded' });
    await t.flush();
    expect(server.accepted.map((e) => metricData(e)?.metrics[0]?.value)).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
    expect(server.requests.map((r) => r.items.length)).toEqual([10, 10]);
    expect(warnings().map((w) => w.message)).toEqual([expect.stringMatching(/buffer full/), expect.stringMatching(/dropped 5 item/)]);
  });

  it('never throws from metric or event, even on values JSON cannot carry', async () => {
    const t = telemetry();
    expect(() => t.metric(METRICS.freshnessLag, Number.NaN, { source: 'a', status: 'warn' })).not.toThrow();
    expect(() => t.event(EVENTS.dataTestFailed, { runId: 'r', message: 'x'.repeat(20_000) })).not.toThrow();
    await t.flush();
    expect(server.accepted.map((e) => e.name)).toEqual(['Microsoft.ApplicationInsights.Event']);
    expect(eventData(server.accepted[0]!)?.properties.message?.length).toBeLessThan(20_000);
    expect(warnings()).toHaveLength(1); // the NaN metric, reported at flush
  });
});

describe('connection and authentication strings', () => {
  it('parse the parts the sender needs', () => {
    expect(parseConnectionString(`InstrumentationKey=${IKEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/`)).toEqual({
      instrumentationKey: IKEY,
      ingestionEndpoint: 'https://westeurope-5.in.applicationinsights.azure.com',
    });
    expect(parseConnectionString(`InstrumentationKey=${IKEY};EndpointSuffix=applicationinsights.azure.cn;Location=chinaeast2`).ingestionEndpoint).toBe('https://chinaeast2.dc.applicationinsights.azure.cn');
    expect(parseAuthenticationString('Authorization=AAD;ClientId=abc-123')).toEqual({ clientId: 'abc-123' });
    expect(parseAuthenticationString('ClientId=abc-123;Authorization=aad')).toEqual({ clientId: 'abc-123' });
    expect(parseAuthenticationString('Authorization=AAD')).toEqual({});
  });

  it('give a clear error naming the missing or bad part', () => {
    expect(() => parseConnectionString('IngestionEndpoint=https://x.example/')).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey/);
    expect(() => parseConnectionString(`InstrumentationKey=${IKEY}`)).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING has no IngestionEndpoint/);
    expect(() => parseConnectionString(`InstrumentationKey=${IKEY};IngestionEndpoint=not a url`)).toThrow(/IngestionEndpoint is not a URL/);
    expect(() => parseConnectionString(IKEY)).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING: part 1 is not Key=Value/);
    expect(() => new AppInsightsTelemetry('InstrumentationKey=;IngestionEndpoint=https://x.example/')).toThrow(TelemetryConfigError);
    expect(() => parseAuthenticationString('Authorization=ikey')).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING: expected Authorization=AAD/);
  });
});

describe('telemetryFromSettings', () => {
  it('is noTelemetry without a connection string', () => {
    expect(telemetryFromSettings(loadSettings({}), log)).toBe(noTelemetry);
    expect(telemetryFromSettings(loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }), log)).toBe(noTelemetry);
  });

  it('sends without a token when no authentication string is set', () => {
    const t = telemetryFromSettings(loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString(server.endpoint) }), log);
    expect(t).toBeInstanceOf(AppInsightsTelemetry);
    expect((t as AppInsightsTelemetry).credential).toBeUndefined();
  });

  it('uses a managed identity when the authentication string asks for Entra auth', () => {
    const t = telemetryFromSettings(
      loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString(server.endpoint), APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=00000000-0000-0000-0000-0000000000aa' }),
      log,
    );
    expect((t as AppInsightsTelemetry).credential).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('fails clearly on a bad connection string', () => {
    expect(() => telemetryFromSettings(loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'IngestionEndpoint=https://x.example/' }), log)).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey/);
  });
});

describe('docs/operations.md lists every telemetry name', () => {
  it('mentions every metric and event name from functions/core/telemetry.ts', () => {
    const operations = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    const names = [...Object.values(METRICS), ...Object.values(EVENTS)];
    expect(names.filter((name) => !operations.includes(name))).toEqual([]);
  });
});
