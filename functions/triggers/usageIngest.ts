/** Usage ingest: a timer (NCRONTAB from USAGE_INGEST_SCHEDULE, default daily 02:00 UTC). */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runUsageIngest } from '../ingest/usageIngest.js';
import { withPipelineContext } from './hostContext.js';

export async function usageIngestHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  await withPipelineContext(context, (ctx) => runUsageIngest(ctx, { triggerName: 'usageIngest timer' }));
}

app.timer('usageIngest', { schedule: process.env.USAGE_INGEST_SCHEDULE ?? '0 0 2 * * *', handler: usageIngestHandler });
