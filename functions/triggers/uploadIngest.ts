/** Upload ingest: a BlobCreated event for `landing` (Event Grid → `landing-events` queue). */
import { app, type InvocationContext } from '@azure/functions';
import { handleLandingEvent } from '../ingest/landingEvents.js';
import { DATA_STORAGE_CONNECTION, QUEUES } from '../storage/blobStore.js';
import { withPipelineContext } from './hostContext.js';

export async function uploadIngestHandler(message: unknown, context: InvocationContext): Promise<void> {
  await withPipelineContext(context, (ctx) => handleLandingEvent(ctx, message));
}

app.storageQueue('uploadIngest', { queueName: QUEUES.landingEvents, connection: DATA_STORAGE_CONNECTION, handler: uploadIngestHandler });
