/**
 * Host plumbing shared by the trigger files: one pipeline context per worker process (settings,
 * storage clients and the warehouse connection are reused across invocations), and a logger that
 * writes through the invocation context so lines reach Application Insights with the invocation id.
 */
import type { InvocationContext } from '@azure/functions';
import type { PipelineContext } from '../core/context.js';
import type { Log } from '../core/log.js';
import { loadSettings } from '../core/settings.js';
import { noTelemetry } from '../core/telemetry.js';
import { createStorageClients } from '../storage/blobStore.js';
import { openWarehouse } from '../warehouse/openWarehouse.js';

let shared: Promise<Omit<PipelineContext, 'log'>> | undefined;

/** Builds the shared part once; a failed start is retried on the next invocation. */
function sharedContext(): Promise<Omit<PipelineContext, 'log'>> {
  shared ??= (async () => {
    const settings = loadSettings();
    return { settings, storage: createStorageClients(settings), warehouse: await openWarehouse(settings), telemetry: noTelemetry, now: () => new Date() };
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

/** For tests and the local runner: use this context instead of building one from settings. */
export function useSharedContext(ctx: Omit<PipelineContext, 'log'> | undefined): void {
  shared = ctx ? Promise.resolve(ctx) : undefined;
}
