/**
 * Telemetry for the Azure portal: custom metrics and structured events with stable names, which
 * the alert rules and the workbook under `infra/` query. The names below are a contract: rename
 * one and an alert goes silent. docs/operations.md lists them all (`tests/telemetry.test.ts` checks it).
 *
 * In Azure they go to Application Insights (customMetrics and customEvents tables); locally and in
 * tests to nowhere or to memory. Values never carry secrets or row contents.
 */

/** Metric names → the dimensions each one carries. */
export const METRICS = {
  /** Rows an ingester wrote to bronze. dims: source */
  rowsLanded: 'pipeline.rows.landed',
  /** Rows an ingester sent to quarantine (bad rows, and every row of a rejected file). dims: source */
  rowsQuarantined: 'pipeline.rows.quarantined',
  /** Rows the transform loaded from bronze blobs into the warehouse. dims: source */
  rowsLoaded: 'pipeline.rows.loaded',
  /** Duration of a run or a step. dims: stage (run kind, or load / model / data_tests), status */
  stageDuration: 'pipeline.stage.duration_ms',
  /** 1 per finished run. dims: kind, status (succeeded | failed | skipped) */
  runCompleted: 'pipeline.runs.completed',
  /** Hours since a source last delivered (its newest `_ingested_at`). dims: source, status (pass | warn | error) */
  freshnessLag: 'pipeline.freshness.lag_hours',
  /** 1 per data test that did not pass. dims: table, test, severity, status (warn | error) */
  dataTestFailed: 'pipeline.data_tests.failed',
  /** 1 per schema drift finding. dims: source, kind (new_column | missing_optional_column | changed_type) */
  schemaDrift: 'pipeline.schema_drift',
  /** Messages waiting in a poison queue, measured by the hourly monitor (a gauge). dims: queue */
  poisonMessages: 'pipeline.queue.poison_messages',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** Structured event names (Application Insights customEvents). */
export const EVENTS = {
  /** Every finished run: runId, kind, trigger, status, durationMs, rowsIn, rowsOut, rowsRejected, error. */
  runFinished: 'pipeline.run_finished',
  /** A data test that did not pass: runId, testId, table, severity, status, failingRows, sampleKeys, message. */
  dataTestFailed: 'pipeline.data_test_failed',
  /** A source past a freshness threshold: source, status, lagHours, warnAfterHours, errorAfterHours, latestIngestedAt. */
  sourceStale: 'pipeline.source_stale',
  /** A whole file refused: runId, source, file, reason. */
  fileRejected: 'pipeline.file_rejected',
  /** Schema drift in a file: runId, source, file, kind, column, expected, observed. */
  schemaDrift: 'pipeline.schema_drift',
  /** Messages wait in a poison queue: queue, messages, message (the first one, truncated). */
  poisonMessage: 'pipeline.poison_message',
} as const;

export type EventName = (typeof EVENTS)[keyof typeof EVENTS];

export type Dimensions = Record<string, string>;
export type EventProperties = Record<string, string | number | boolean | null | undefined>;

export interface Telemetry {
  metric(name: MetricName, value: number, dimensions?: Dimensions): void;
  event(name: EventName, properties: EventProperties): void;
  /** Sends what is buffered; the host awaits it before an invocation ends. */
  flush(): Promise<void>;
}

export const noTelemetry: Telemetry = {
  metric: () => {},
  event: () => {},
  flush: () => Promise.resolve(),
};

export interface RecordedTelemetry extends Telemetry {
  metrics: { name: MetricName; value: number; dimensions: Dimensions }[];
  events: { name: EventName; properties: EventProperties }[];
}

/** Keeps everything in memory: for tests that assert on what was sent. */
export function memoryTelemetry(): RecordedTelemetry {
  const metrics: RecordedTelemetry['metrics'] = [];
  const events: RecordedTelemetry['events'] = [];
  return {
    metrics,
    events,
    metric: (name, value, dimensions = {}) => metrics.push({ name, value, dimensions }),
    event: (name, properties) => events.push({ name, properties }),
    flush: () => Promise.resolve(),
  };
}
