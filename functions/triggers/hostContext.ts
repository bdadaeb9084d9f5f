/**
 * Host plumbing shared by the trigger files: one pipeline context per worker process (settings,
 * storage clients, the warehouse connection and the telemetry client are reused across
 * invocations), and a logger that writes through the invocation context so lines reach
 * Application Insights with the invocation id.
 */
import type { InvocationContext } from '@azure/functions';
import type { PipelineContext } from '../core/context.js';
import { consoleLog, type Log } from '../core/log.js';
import { loadSettings } from '../core/settings.js';
import { createStorageClients } from '../storage/blobStore.js';
import { telemetryFromSettings } from '../telemetry/appInsightsTelemetry.js';
import { openWarehouse } from '../warehouse/openWarehouse.js';

let shared: Promise<Omit<PipelineContext, 'log'>> | undefined;

/** Builds the shared part once; a failed start is retried on the next invocation. */
function sharedContext(): Promise<Omit<PipelineContext, 'log'>> {
  shared ??= (async () => {
    const settings = loadSettings();
    // The telemetry client outlives invocations, so its own warnings go to the console (the
    // worker forwards console output to the host's logs).
    const telemetry = telemetryFromSettings(settings, consoleLog());
    return { settings, storage: createStorageClients(settings), warehouse: await openWarehouse(settings), telemetry, now: () => new Date() };
  })().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

export function invocationLog(context: InvocationContext): Log {
  const fmt = (m: string, p?: Record<string, unknown>) => (p && Object.keys(p).length ? `${m} ${JSON.stringify(p)}` : m);
  return {
    info: (m, p) => context.log(fmt(m, p)),
    warn: (m, p) => context.warn(fmt(m, p)),
    error: (m, p) => context.error(fmt(m, p)),
  };
}

export async function pipelineContextFor(context: InvocationContext): Promise<PipelineContext> {
  return { ...(await sharedContext()), log: invocationLog(context) };
}

/**
 * Runs one invocation with its pipeline context and always sends the buffered telemetry before
 * returning, whether `fn` succeeded or threw: the host may freeze the worker once the invocation
 * has returned, so nothing may be left to send "later".
 */
export async function withPipelineContext<T>(context: InvocationContext, fn: (ctx: PipelineContext) => Promise<T>): Promise<T> {
  const ctx = await pipelineContextFor(context);
  try {
    return await fn(ctx);
  } finally {
    try {
      await ctx.telemetry.flush();
    } catch (err) {
      // flush() does not throw by contract; a faulty implementation must not mask fn's outcome.
      ctx.log.warn(`telemetry flush failed: ${err instanceof Error ? err.name : 'unknown error'}`);
    }
  }
}

/** For tests and the local runner: use this context instead of building one from settings. */
export function useSharedContext(ctx: Omit<PipelineContext, 'log'> | undefined): void {
  shared = ctx ? Promise.resolve(ctx) : undefined;
}
