/** Transform: a request on the `transform-requests` queue, sent by both ingesters. */
import { app, type InvocationContext } from '@azure/functions';
import { transformRequestSchema } from '../transform/requests.js';
import { runTransform } from '../transform/transform.js';
import { DATA_STORAGE_CONNECTION, QUEUES } from '../storage/blobStore.js';
import { withPipelineContext } from './hostContext.js';

export async function transformHandler(message: unknown, context: InvocationContext): Promise<void> {
  await withPipelineContext(context, async (ctx) => {
    const parsed = transformRequestSchema.safeParse(message);
    if (!parsed.success) {
      // A malformed message can never succeed: log it and let it go (no poison-queue retries).
      ctx.log.error(`ignored a malformed transform request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return;
    }
    await runTransform(ctx, [parsed.data], 'transform_queue');
  });
}

app.storageQueue('transform', { queueName: QUEUES.transformRequests, connection: DATA_STORAGE_CONNECTION, handler: transformHandler });
