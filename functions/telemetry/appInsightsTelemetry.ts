/**
 * Telemetry to Application Insights through its ingestion ("Breeze") Track API: custom metrics
 * (customMetrics) and custom events (customEvents), POSTed as a JSON array of envelopes to
 * `<IngestionEndpoint>/v2.1/track`, with an Entra token when the resource has local auth disabled.
 *
 * The envelopes follow what the official SDKs send (the Azure Monitor OpenTelemetry exporter in
 * Azure/azure-sdk-for-js, sdk/monitor/monitor-opentelemetry-exporter: `generated/models`,
 * `utils/metricUtils.ts`, `utils/breezeUtils.ts`, `platform/nodejs/httpSender.ts`).
 *
 * Telemetry never fails or slows down the pipeline: `metric` and `event` only append to a bounded
 * in-memory buffer, `flush` never throws; a batch that still cannot be delivered after a short
 * retry is dropped with one warning per flush (never with a token or the connection string in it).
 */
import { hostname } from 'node:os';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { consoleLog, type Log } from '../core/log.js';
import type { Settings } from '../core/settings.js';
import { noTelemetry, type Dimensions, type EventName, type EventProperties, type MetricName, type Telemetry } from '../core/telemetry.js';

/** Token scope for ingestion (the audience is `https://monitor.azure.com/`; the SDKs ask for `//.default`). */
export const INGESTION_SCOPE = 'https://monitor.azure.com//.default';

/** Breeze limits: longer values are rejected item by item, so they are cut here. */
const MAX_NAME_LENGTH = 512;
const MAX_PROPERTY_KEY_LENGTH = 150;
const MAX_PROPERTY_VALUE_LENGTH = 8_192;

export class TelemetryConfigError extends Error {}

// ---------------------------------------------------------------------------------------------
// Connection and authentication strings
// ---------------------------------------------------------------------------------------------

/** `Key=Value;Key=Value` with case-insensitive keys; the setting name goes into every error. */
function keyValues(text: string, setting: string): Map<string, string> {
  const fields = new Map<string, string>();
  const parts = text.split(';').map((p) => p.trim());
  parts.forEach((part, i) => {
    if (!part) return;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TelemetryConfigError(`${setting}: part ${i + 1} is not Key=Value`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  });
  return fields;
}

export interface ConnectionInfo {
  instrumentationKey: string;
  /** Without a trailing slash, e.g. `https://westeurope-5.in.applicationinsights.azure.com`. */
  ingestionEndpoint: string;
}

/**
 * Parses `APPLICATIONINSIGHTS_CONNECTION_STRING`. Like the SDKs, an `EndpointSuffix` (with an
 * optional `Location`) stands in for a missing `IngestionEndpoint`.
 */
export function parseConnectionString(connectionString: string): ConnectionInfo {
  const setting = 'APPLICATIONINSIGHTS_CONNECTION_STRING';
  const fields = keyValues(connectionString, setting);
  const instrumentationKey = fields.get('instrumentationkey');
  if (!instrumentationKey) throw new TelemetryConfigError(`${setting} has no InstrumentationKey`);
  let endpoint = fields.get('ingestionendpoint');
  const suffix = fields.get('endpointsuffix');
  if (!endpoint && suffix) {
    const location = fields.get('location');
    endpoint = `https://${location ? `${location}.` : ''}dc.${suffix}`;
  }
  if (!endpoint) throw new TelemetryConfigError(`${setting} has no IngestionEndpoint`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TelemetryConfigError(`${setting}: IngestionEndpoint is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TelemetryConfigError(`${setting}: IngestionEndpoint must be an https URL`);
  return { instrumentationKey, ingestionEndpoint: url.href.replace(/\/+$/, '') };
}

/**
 * Parses `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` (the setting the Functions host reads):
 * `Authorization=AAD;ClientId=<client id>` for a user-assigned identity, `Authorization=AAD` for
 * the system-assigned one.
 */
export function parseAuthenticationString(authenticationString: string): { clientId?: string } {
  const setting = 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING';
  const fields = keyValues(authenticationString, setting);
  if (fields.get('authorization')?.toUpperCase() !== 'AAD') throw new TelemetryConfigError(`${setting}: expected Authorization=AAD (optionally with ClientId=<client id>)`);
  const clientId = fields.get('clientid');
  return clientId ? { clientId } : {};
}

/**
 * The telemetry for the host: nothing without a connection string; otherwise Application Insights,
 * with a managed identity token when `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` is set.
 * A malformed connection or authentication string throws a TelemetryConfigError naming the setting.
 */
export function telemetryFromSettings(settings: Pick<Settings, 'APPLICATIONINSIGHTS_CONNECTION_STRING' | 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'>, log: Log): Telemetry {
  const connectionString = settings.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return noTelemetry;
  const authentication = settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING?.trim();
  let credential: TokenCredential | undefined;
  if (authentication) {
    const { clientId } = parseAuthenticationString(authentication);
    credential = clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  }
  return new AppInsightsTelemetry(connectionString, { credential, log });
}

// ---------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------

/** One telemetry item as the Track API takes it (TelemetryItem in the ingestion contract). */
export interface Envelope {
  ver: 1;
  name: 'Microsoft.ApplicationInsights.Metric' | 'Microsoft.ApplicationInsights.Event';
  time: string;
  sampleRate: 100;
  iKey: string;
  tags: Record<string, string>;
  data: MetricEnvelopeData | EventEnvelopeData;
}

export interface MetricEnvelopeData {
  baseType: 'MetricData';
  baseData: { ver: 2; metrics: { name: string; value: number; count: number; kind: 'Aggregation' }[]; properties: Record<string, string> };
}

export interface EventEnvelopeData {
  baseType: 'EventData';
  baseData: { ver: 2; name: string; properties: Record<string, string>; measurements?: Record<string, number> };
}

const trackResponseSchema = z.object({
  itemsReceived: z.number().optional(),
  itemsAccepted: z.number().optional(),
  errors: z.array(z.object({ index: z.number().int(), statusCode: z.number().int(), message: z.string().optional() })).optional(),
});

/** Status codes worth another attempt (whole request, or one item in a 206's `errors`). */
function isRetriable(status: number): boolean {
  return status === 408 || status === 429 || status === 439 || status === 500 || status === 502 || status === 503 || status === 504;
}

type Attempt =
  | { kind: 'done'; retry: Envelope[]; rejected: number; rejectReason?: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'fatal'; reason: string }
  | { kind: 'redirect'; origin: string };

export interface AppInsightsTelemetryOptions {
  /** Entra auth: a token for {@link INGESTION_SCOPE} goes with every request. */
  credential?: TokenCredential;
  /** Where the one warning per flush about dropped items goes (default: the console). */
  log?: Log;
  /** `ai.cloud.role`; default `WEBSITE_SITE_NAME` (the function app's name), omitted when unset. */
  roleName?: string;
  /** `ai.cloud.roleInstance`; default the host name. */
  roleInstance?: string;
  /** Items per request; a full batch is sent without waiting for `flush` (default 500). */
  maxBatchSize?: number;
  /** Items kept in memory at most; beyond it the oldest are dropped (default 10,000). */
  maxBufferSize?: number;
  /** Waits before the retries of a failed request (default 250 ms, 1 s: two retries). */
  retryDelaysMs?: number[];
  /** Per request (default 5 s). */
  requestTimeoutMs?: number;
}

export class AppInsightsTelemetry implements Telemetry {
  readonly credential: TokenCredential | undefined;
  private readonly iKey: string;
  private trackUrl: string;
  private readonly tags: Record<string, string>;
  private readonly log: Log;
  private readonly maxBatchSize: number;
  private readonly maxBufferSize: number;
  private readonly retryDelaysMs: number[];
  private readonly requestTimeoutMs: number;

  private buffer: Envelope[] = [];
  /** Sends run one after another; each takes its items from the buffer when it starts. */
  private queue: Promise<void> = Promise.resolve();
  private autoSendQueued = false;
  /** Dropped items since the last warning, by reason. */
  private dropped = new Map<string, number>();
  private overflowWarned = false;

  constructor(connectionString: string, options: AppInsightsTelemetryOptions = {}) {
    const { instrumentationKey, ingestionEndpoint } = parseConnectionString(connectionString);
    this.iKey = instrumentationKey;
    this.trackUrl = `${ingestionEndpoint}/v2.1/track`;
    this.credential = options.credential;
    this.log = options.log ?? consoleLog();
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 500);
    this.maxBufferSize = Math.max(this.maxBatchSize, options.maxBufferSize ?? 10_000);
    this.retryDelaysMs = options.retryDelaysMs ?? [250, 1_000];
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    const roleName = options.roleName ?? process.env.WEBSITE_SITE_NAME;
    this.tags = {
      ...(roleName ? { 'ai.cloud.role': roleName } : {}),
      'ai.cloud.roleInstance': options.roleInstance ?? hostname(),
      'ai.internal.sdkVersion': `node${process.versions.node}:pipeline-track:1`,
    };
  }

  metric(name: MetricName, value: number, dimensions: Dimensions = {}): void {
    try {
      if (!Number.isFinite(value)) {
        this.countDrop('metric value not a finite number', 1);
        return;
      }
      const properties: Record<string, string> = {};
      for (const [key, v] of Object.entries(dimensions)) properties[cut(key, MAX_PROPERTY_KEY_LENGTH)] = cut(String(v), MAX_PROPERTY_VALUE_LENGTH);
      this.add({
        ...this.envelopeBase('Microsoft.ApplicationInsights.Metric'),
        data: { baseType: 'MetricData', baseData: { ver: 2, metrics: [{ name: cut(name, MAX_NAME_LENGTH), value, count: 1, kind: 'Aggregation' }], properties } },
      });
    } catch {
      // never let telemetry fail the caller
    }
  }

  event(name: EventName, props: EventProperties): void {
    try {
      const properties: Record<string, string> = {};
      const measurements: Record<string, number> = {};
      for (const [rawKey, v] of Object.entries(props ?? {})) {
        if (v === undefined || v === null) continue;
        const key = cut(rawKey, MAX_PROPERTY_KEY_LENGTH);
        properties[key] = cut(String(v), MAX_PROPERTY_VALUE_LENGTH);
        if (typeof v === 'number' && Number.isFinite(v)) measurements[key] = v;
      }
      this.add({
        ...this.envelopeBase('Microsoft.ApplicationInsights.Event'),
        data: { baseType: 'EventData', baseData: { ver: 2, name: cut(name, MAX_NAME_LENGTH), properties, ...(Object.keys(measurements).length ? { measurements } : {}) } },
      });
    } catch {
      // never let telemetry fail the caller
    }
  }

  /** Sends everything buffered (and waits for sends under way). Never throws. */
  async flush(): Promise<void> {
    try {
      await this.enqueue(async () => {
        while (this.buffer.length > 0) await this.sendBatch(this.buffer.splice(0, this.maxBatchSize));
      });
      this.reportDrops();
    } catch {
      // never let telemetry fail the caller
    }
  }

  private envelopeBase(name: Envelope['name']): Omit<Envelope, 'data'> {
    return { ver: 1, name, time: new Date().toISOString(), sampleRate: 100, iKey: this.iKey, tags: { ...this.tags } };
  }

  private add(envelope: Envelope): void {
    if (this.buffer.length >= this.maxBufferSize) {
      const excess = this.buffer.length - this.maxBufferSize + 1;
      this.buffer.splice(0, excess);
      this.countDrop(`over the buffer cap of ${this.maxBufferSize}`, excess);
      if (!this.overflowWarned) {
        this.overflowWarned = true;
        this.log.warn(`telemetry buffer full (${this.maxBufferSize} items): dropping the oldest items until the next flush`);
      }
    }
    this.buffer.push(envelope);
    if (this.buffer.length >= this.maxBatchSize && !this.autoSendQueued) {
      this.autoSendQueued = true;
      void this.enqueue(async () => {
        this.autoSendQueued = false;
        while (this.buffer.length >= this.maxBatchSize) await this.sendBatch(this.buffer.splice(0, this.maxBatchSize));
      });
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task).catch(() => {});
    this.queue = next;
    return next;
  }

  private countDrop(reason: string, count: number): void {
    if (count > 0) this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count);
  }

  private reportDrops(): void {
    if (this.dropped.size === 0) return;
    const reasons = Object.fromEntries(this.dropped);
    const total = [...this.dropped.values()].reduce((a, b) => a + b, 0);
    this.dropped = new Map();
    this.overflowWarned = false;
    this.log.warn(`telemetry: dropped ${total} item(s) that could not be sent to Application Insights`, { reasons });
  }

  /** Sends one batch, retrying what is retriable; what is left is counted as dropped. */
  private async sendBatch(batch: Envelope[]): Promise<void> {
    let pending = batch;
    let lastReason = '';
    let redirects = 0;
    for (let attempt = 0; pending.length > 0 && attempt <= this.retryDelaysMs.length; attempt++) {
      if (attempt > 0) await sleep(this.retryDelaysMs[attempt - 1] ?? 0);
      const result = await this.post(pending);
      switch (result.kind) {
        case 'done':
          if (result.rejected > 0) this.countDrop(result.rejectReason ?? 'rejected by the service', result.rejected);
          pending = result.retry;
          lastReason = 'items still failing (HTTP 206)';
          break;
        case 'retry':
          lastReason = result.reason;
          break;
        case 'fatal':
          this.countDrop(result.reason, pending.length);
          return;
        case 'redirect':
          // Like the SDKs: remember the new host and send again at once (not counted as an attempt).
          this.trackUrl = `${result.origin}/v2.1/track`;
          if (++redirects <= 5) attempt--;
          lastReason = 'too many redirects';
          break;
      }
    }
    if (pending.length > 0) this.countDrop(`${lastReason} after ${this.retryDelaysMs.length + 1} attempts`, pending.length);
  }

  /** One request. Never throws. */
  private async post(items: Envelope[]): Promise<Attempt> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.credential) {
      try {
        const token = await this.credential.getToken(INGESTION_SCOPE);
        if (!token?.token) return { kind: 'fatal', reason: 'no Entra token for Application Insights' };
        headers.Authorization = `Bearer ${token.token}`;
      } catch (err) {
        return { kind: 'fatal', reason: `no Entra token for Application Insights (${errorName(err)})` };
      }
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.trackUrl, { method: 'POST', headers, body: JSON.stringify(items), redirect: 'manual', signal: AbortSignal.timeout(this.requestTimeoutMs) });
      text = await res.text();
    } catch (err) {
      return { kind: 'retry', reason: `network error (${errorName(err)})` };
    }
    if (res.status === 200) return { kind: 'done', retry: [], rejected: 0 };
    if (res.status === 307 || res.status === 308) {
      const location = res.headers.get('location');
      const origin = location ? safeOrigin(location, this.trackUrl) : undefined;
      return origin ? { kind: 'redirect', origin } : { kind: 'fatal', reason: `HTTP ${res.status} without a usable Location` };
    }
    if (res.status === 206) {
      const parsed = trackResponseSchema.safeParse(safeJson(text));
      // A 206 we cannot read: do not resend (it would duplicate what was accepted).
      if (!parsed.success) return { kind: 'done', retry: [], rejected: 0 };
      const retry: Envelope[] = [];
      let rejected = 0;
      const statuses = new Set<number>();
      for (const error of parsed.data.errors ?? []) {
        const item = items[error.index];
        if (!item) continue;
        if (isRetriable(error.statusCode)) retry.push(item);
        else {
          rejected++;
          statuses.add(error.statusCode);
        }
      }
      return { kind: 'done', retry, rejected, rejectReason: `rejected by the service (item status ${[...statuses].sort((a, b) => a - b).join(', ')})` };
    }
    if (isRetriable(res.status)) return { kind: 'retry', reason: `HTTP ${res.status}` };
    if (res.status === 401 || res.status === 403) return { kind: 'fatal', reason: `HTTP ${res.status} (does the identity have Monitoring Metrics Publisher on the resource?)` };
    return { kind: 'fatal', reason: `HTTP ${res.status}` };
  }
}

function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function safeOrigin(location: string, base: string): string | undefined {
  try {
    const url = new URL(location, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The error's name or code, never its message (which could quote a URL or a header). */
function errorName(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'unknown error';
}
