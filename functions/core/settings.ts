/**
 * Every setting the pipeline reads, in one place, validated with zod.
 *
 * Settings come from environment variables (app settings in Azure). The README lists them all;
 * `tests/settings.test.ts` checks that this schema and the README agree.
 */
import path from 'node:path';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

/** Hours per ticket priority, written `urgent=1,high=4,medium=8,low=24` (every priority, 1 to 8,760 hours). */
type Priority = 'urgent' | 'high' | 'medium' | 'low';
const priorityHours = z.string().transform((text, ctx) => {
  const hours: Partial<Record<Priority, number>> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(urgent|high|medium|low)\s*=\s*(\d{1,4})\s*$/.exec(part);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 8760) {
      ctx.addIssue({ code: 'custom', message: `expected priority=hours for urgent, high, medium and low (1 to 8760 hours each), e.g. urgent=1,high=4,medium=8,low=24; got "${part.trim()}"` });
      return z.NEVER;
    }
    hours[m[1] as Priority] = Number(m[2]);
  }
  const missing = ['urgent', 'high', 'medium', 'low'].filter((p) => !(p in hours));
  if (missing.length > 0) {
    ctx.addIssue({ code: 'custom', message: `no hours for ${missing.join(', ')} (expected urgent, high, medium and low)` });
    return z.NEVER;
  }
  return hours as Record<Priority, number>;
});

export const settingsSchema = z.object({
  /** Warehouse engine: `duckdb` (embedded file, the local default) or `mssql` (Azure SQL / SQL Server). */
  WAREHOUSE_ENGINE: z.enum(['duckdb', 'mssql']).default('duckdb'),
  /** Directory for local state: the DuckDB warehouse, Azurite data, sample files. */
  PIPELINE_LOCAL_DIR: z.string().default('.local'),
  /** DuckDB file; defaults to `<PIPELINE_LOCAL_DIR>/warehouse.duckdb`. */
  DUCKDB_PATH: z.string().optional(),
  /**
   * DuckDB memory cap (it spills to disk beyond it); DuckDB's own default is 80% of RAM. 384 MB
   * keeps the benchmarks' peak RSS under their 1 GB with ~100 MB to spare, at the same build times
   * but for the customer score snapshots (+1.6 s of 40 s; docs/performance.md).
   */
  DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB or 2GB').default('384MB'),
  /** DuckDB worker threads (default: one per core). */
  DUCKDB_THREADS: positiveInt.max(256).optional(),

  /** Azure SQL server host name, e.g. `myserver.database.windows.net`. */
  SQL_SERVER: z.string().optional(),
  SQL_DATABASE: z.string().optional(),
  SQL_PORT: positiveInt.default(1433),
  /**
   * How the mssql engine authenticates: `default` (DefaultAzureCredential: managed identity in
   * Azure, `az login` on a laptop) or `sql-password` (SQL_USER / SQL_PASSWORD; only for a local
   * SQL Server in tests, never in Azure).
   */
  SQL_AUTH: z.enum(['default', 'sql-password']).default('default'),
  SQL_USER: z.string().optional(),
  SQL_PASSWORD: z.string().optional(),
  SQL_ENCRYPT: z.enum(['true', 'false']).default('true'),
  SQL_TRUST_SERVER_CERTIFICATE: z.enum(['true', 'false']).default('false'),
  SQL_REQUEST_TIMEOUT_MS: positiveInt.default(120_000),
  /** Client id of the user-assigned managed identity (Azure sets it on the app). */
  AZURE_CLIENT_ID: z.string().optional(),

  /**
   * The pipeline's storage (the data lake's containers and the pipeline's queues) is the account
   * of the `DataStorage` connection, which the queue triggers use too. In Azure it is a storage
   * account of its own, reached with the managed identity (the service URIs below); the Functions
   * host keeps its own state in another account (AzureWebJobsStorage__*, read by the host only).
   * `DataStorage` itself is a connection string (a second local account, if ever wanted).
   */
  DataStorage: z.string().optional(),
  DataStorage__blobServiceUri: z.string().url().optional(),
  DataStorage__queueServiceUri: z.string().url().optional(),
  /** The managed identity for the data storage (falls back to AZURE_CLIENT_ID). */
  DataStorage__clientId: z.string().optional(),
  /**
   * A connection string for one account that is both (Azurite locally; the local runner sets it):
   * with no `DataStorage*` setting the pipeline uses it for its data too.
   */
  AzureWebJobsStorage: z.string().optional(),

  /** Product usage API. */
  USAGE_API_BASE_URL: z.string().url().optional(),
  USAGE_API_TOKEN: z.string().optional(),
  USAGE_API_PAGE_SIZE: positiveInt.max(10_000).default(5_000),
  USAGE_API_TIMEOUT_MS: positiveInt.default(30_000),
  USAGE_API_MAX_ATTEMPTS: positiveInt.max(20).default(6),
  USAGE_API_RETRY_BASE_MS: positiveInt.default(500),
  USAGE_API_RETRY_MAX_MS: positiveInt.default(60_000),
  USAGE_FETCH_CONCURRENCY: positiveInt.max(16).default(4),
  /** First activity date to pull when no watermark exists yet (default: yesterday). */
  USAGE_START_DATE: isoDate.optional(),
  /** Catch-up bound: at most this many activity dates per run. */
  USAGE_MAX_DATES_PER_RUN: positiveInt.default(31),
  /** NCRONTAB for the usage ingest timer (read by the host at start-up). */
  USAGE_INGEST_SCHEDULE: z.string().default('0 0 2 * * *'),

  /** NCRONTAB for the monitor timer: source freshness and poison queues (read by the host at start-up). */
  MONITOR_SCHEDULE: z.string().default('0 15 * * * *'),

  /** Churn rule: no active users in this many calendar days ... */
  CHURN_INACTIVE_DAYS: positiveInt.max(366).default(7),
  /** ... and no CRM contact in this many days before the activity date. */
  CHURN_CONTACT_WINDOW_DAYS: positiveInt.max(3660).default(30),

  /**
   * Ingest limits (docs/sources.md, "Limits on input"). Dates and timestamps a contract accepts: not before
   * this date (a column may declare its own earliest) ...
   */
  INGEST_EARLIEST_DATE: isoDate.refine((d) => d >= '1900-01-01' && d <= '2100-01-01', 'expected a date from 1900-01-01 to 2100-01-01').default('2000-01-01'),
  /** ... and not more than this many days after the day the file arrived (uploads) or the requested date (API). */
  INGEST_MAX_DAYS_AHEAD: z.coerce.number().int().min(0).max(3660).default(1),
  /** A CSV header with more columns than this rejects the file ("header too wide"). */
  INGEST_MAX_COLUMNS: positiveInt.max(100_000).default(1_000),
  /** The longest CSV record, in characters; a longer one is quarantined and reading goes on at its next line. */
  INGEST_MAX_RECORD_CHARS: positiveInt.min(1_024).max(64 * 1024 * 1024).default(1_048_576),
  /** Schema drift findings recorded per file; the rest are summarised in one finding per kind. */
  INGEST_MAX_DRIFT_FINDINGS: positiveInt.max(10_000).default(50),
  /** Worker threads that split large files' rows (functions/ingest/splitPool.ts); unset: one per core; 0: the function's own thread. */
  INGEST_WORKER_THREADS: z.coerce.number().int().min(0).max(64).optional(),

  /** A transform run holds the warehouse lease this long; a crashed run's lease expires after it. */
  TRANSFORM_LEASE_SECONDS: positiveInt.default(1_800),

  /**
   * Application Insights resource (`InstrumentationKey=…;IngestionEndpoint=https://…;…`): when set,
   * the pipeline's metrics and events go there (the Functions host reads the same setting for its
   * own logs). Unset: telemetry goes nowhere.
   */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().optional(),
  /**
   * Entra authentication for that telemetry, the format the Functions host reads:
   * `Authorization=AAD;ClientId=<client id>` (user-assigned managed identity) or `Authorization=AAD`
   * (system-assigned). Needed when the resource has local auth disabled; the identity needs the
   * Monitoring Metrics Publisher role on it. Unset: sent without a token.
   */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z.string().optional(),

  // ---- CRM warehouse ----
  /** Support SLA, first response: the target in hours per ticket priority (gold.fact_tickets). */
  CRM_SLA_FIRST_RESPONSE_HOURS: priorityHours.prefault('urgent=1,high=4,medium=8,low=24'),
  /** Support SLA, resolution: the target in hours per ticket priority. */
  CRM_SLA_RESOLUTION_HOURS: priorityHours.prefault('urgent=24,high=72,medium=120,low=240'),

  // ---- customer analytics ----
  /**
   * The date the customer marts are computed as of (YYYY-MM-DD); unset or empty: the data's last
   * transaction date. Never the wall clock.
   */
  ANALYTICS_AS_OF_DATE: z.preprocess((v) => (v === '' ? undefined : v), isoDate.optional()),
  /** Segment Lost: no purchase for more than this many days. */
  CUSTOMER_LOST_DAYS: positiveInt.max(3660).default(365),
  /** Segment New: first purchase within this many days. */
  CUSTOMER_NEW_DAYS: positiveInt.max(3660).default(90),
  /** High Value needs a purchase within this many days; Win-Back targets those inactive longer. */
  CUSTOMER_ACTIVE_DAYS: positiveInt.max(3660).default(90),
  /** High Value: the top this-many percent of customers by lifetime value. */
  CUSTOMER_HIGH_VALUE_TOP_PCT: positiveInt.max(100).default(20),
  /** At Risk: spend in the last 90 days under this share of the prior 90 days'. */
  CUSTOMER_AT_RISK_SPEND_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  /** At Risk, Retention and the "high churn risk" figures: a churn risk score at least this (0–100). */
  CUSTOMER_HIGH_CHURN_SCORE: z.coerce.number().int().min(0).max(100).default(70),
  /** The churn label: no purchase in this many days after the cutoff. */
  CUSTOMER_CHURN_LABEL_DAYS: positiveInt.max(366).default(90),
  /** Training snapshots of the churn model, a month apart (the holdout is one more, the latest). */
  CUSTOMER_CHURN_TRAINING_SNAPSHOTS: positiveInt.max(24).default(6),
  /** Retention campaign: churn score at the threshold needs at least this lifetime value. */
  CUSTOMER_RETENTION_MIN_LTV: z.coerce.number().min(0).default(200),
  /** Campaign priority High from this estimated value, Medium from the next; Low below. */
  CUSTOMER_CAMPAIGN_HIGH_VALUE: z.coerce.number().min(0).default(500),
  CUSTOMER_CAMPAIGN_MEDIUM_VALUE: z.coerce.number().min(0).default(100),
  /** Spending consistency: coefficient of variation up to this is Steady … */
  CUSTOMER_CV_STEADY: z.coerce.number().positive().default(0.5),
  /** … up to this Variable, above it Erratic. */
  CUSTOMER_CV_VARIABLE: z.coerce.number().positive().default(1),
  /** Predicted value: purchase rates are measured over at least this many days of a customer's history. */
  CUSTOMER_MIN_OBSERVED_DAYS: positiveInt.max(3660).default(90),
});

export type Settings = z.infer<typeof settingsSchema> & { duckdbPath: string };

/**
 * Settings for a laptop or a test rig only, each with why it has no place in Azure. The function
 * app sets every other setting and none of these: `tests/infra.test.ts` checks the Bicep.
 */
export const LOCAL_ONLY_SETTINGS = {
  PIPELINE_LOCAL_DIR: 'local state (Azurite data, the DuckDB file); the function app keeps no local state',
  DUCKDB_PATH: 'the embedded warehouse; Azure runs WAREHOUSE_ENGINE=mssql',
  DUCKDB_MEMORY_LIMIT: 'the embedded warehouse; Azure runs WAREHOUSE_ENGINE=mssql',
  DUCKDB_THREADS: 'the embedded warehouse; Azure runs WAREHOUSE_ENGINE=mssql',
  SQL_USER: 'SQL password authentication, for a local SQL Server only; Azure SQL is Entra-only',
  SQL_PASSWORD: 'SQL password authentication, for a local SQL Server only; Azure SQL is Entra-only',
  AzureWebJobsStorage: 'a connection string carries the account key; in Azure the host connects with the managed identity (AzureWebJobsStorage__*)',
  DataStorage: 'a connection string carries the account key; in Azure the pipeline connects with the managed identity (DataStorage__*)',
} as const satisfies Partial<Record<keyof z.infer<typeof settingsSchema>, string>>;

/** App Service leaves a Key Vault reference it could not resolve in place, as its literal text. */
export function isUnresolvedKeyVaultReference(value: string | undefined): boolean {
  return value !== undefined && value.trimStart().startsWith('@Microsoft.KeyVault(');
}

export class SettingsError extends Error {}

/**
 * Reads and validates settings; the error names every bad variable. An empty value counts as unset
 * (an app setting left blank in the portal or a template means "use the default").
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new SettingsError(`Invalid settings: ${problems}`);
  }
  const s = parsed.data;
  return { ...s, duckdbPath: s.DUCKDB_PATH ?? path.join(s.PIPELINE_LOCAL_DIR, 'warehouse.duckdb') };
}
