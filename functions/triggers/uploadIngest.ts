/** Upload ingest: a BlobCreated event for `landing` (Event Grid → `landing-events` queue). */
import { app, type InvocationContext } from '@azure/functions';
import { handleLandingEvent } from '../ingest/landingEvents.js';
import { QUEUES } from '../storage/blobStore.js';
import { withPipelineContext } from './hostContext.js';

export async function uploadIngestHandler(message: unknown, context: InvocationContext): Promise<void> {
  await withPipelineContext(context, (ctx) => handleLandingEvent(ctx, message));
}

app.storageQueue('uploadIngest', { queueName: QUEUES.landingEvents, connection: 'AzureWebJobsStorage', handler: uploadIngestHandler });
