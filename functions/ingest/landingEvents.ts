/**
 * BlobCreated events for the `landing` container. In Azure, an Event Grid subscription on the
 * storage account delivers them to the `landing-events` queue; locally the runner and the dev host
 * enqueue the same events. The blob is read from our own storage account by its path, never from
 * a URL in the message.
 */
import { z } from 'zod';
import type { PipelineContext } from '../core/context.js';
import { CONTAINERS } from '../storage/blobStore.js';
import { runUploadIngest, type UploadOutcome } from './uploadIngest.js';

/** Event Grid schema and CloudEvents 1.0 schema, as Event Grid can deliver either. */
export const blobCreatedEventSchema = z.union([
  z.object({ eventType: z.string(), subject: z.string().min(1), id: z.string().optional() }),
  z.object({ type: z.string(), subject: z.string().min(1), id: z.string().optional() }),
]);

const SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;

export class BadEventError extends Error {}

/** Parses an event; returns the blob path inside `landing`, or undefined for events to ignore. */
export function landingPathOf(message: unknown): string | undefined {
  const parsed = blobCreatedEventSchema.safeParse(message);
  if (!parsed.success) {
    throw new BadEventError(`not a BlobCreated event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const type = 'eventType' in parsed.data ? parsed.data.eventType : parsed.data.type;
  if (type !== 'Microsoft.Storage.BlobCreated') return undefined;
  const m = SUBJECT.exec(parsed.data.subject);
  if (!m) throw new BadEventError(`event subject is not a blob path: ${parsed.data.subject}`);
  if (m[1] !== CONTAINERS.landing) return undefined;
  return m[2];
}

/** Builds the event Event Grid would send for a blob created in `landing`. */
export function blobCreatedEvent(landingPath: string, blobUrl: string): Record<string, unknown> {
  return {
    id: `local-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    subject: `/blobServices/default/containers/${CONTAINERS.landing}/blobs/${landingPath}`,
    eventTime: new Date().toISOString(),
    dataVersion: '',
    data: { api: 'PutBlob', url: blobUrl, blobType: 'BlockBlob' },
  };
}

export async function handleLandingEvent(ctx: PipelineContext, message: unknown): Promise<UploadOutcome | undefined> {
  const landingPath = landingPathOf(message);
  if (!landingPath) {
    ctx.log.info('event ignored: not a blob created in landing');
    return undefined;
  }
  return runUploadIngest(ctx, landingPath, 'landing_event');
}
