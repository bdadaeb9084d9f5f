/**
 * Monitor: a timer (MONITOR_SCHEDULE, default hourly) that checks what no data trigger can see —
 * sources that stopped arriving (freshness) and messages stuck in poison queues — and reports
 * them as ops records, metrics and events for the alert rules.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { checkPoisonQueues } from '../ops/poisonQueues.js';
import { runFreshnessCheck } from '../quality/freshness.js';
import { withPipelineContext } from './hostContext.js';

export async function monitorHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  await withPipelineContext(context, async (ctx) => {
    await runFreshnessCheck(ctx, 'monitor timer');
    await checkPoisonQueues(ctx);
  });
}

app.timer('monitor', { schedule: process.env.MONITOR_SCHEDULE ?? '0 15 * * * *', handler: monitorHandler });
