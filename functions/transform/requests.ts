/**
 * Transform requests: the queue message both ingesters send with the date range they touched.
 *
 * - `mode: 'load'` (what the ingesters send) is a wake-up call: the transform loads whatever new
 *   bronze files exist and rebuilds the dates those files touch, so a lost, late or duplicated
 *   message never loses or doubles data, and messages for files already loaded cost nothing.
 * - `mode: 'rebuild'` also rebuilds the models over `from`..`to` even without new files
 *   (operations: re-run transforms for a date range).
 */
import { z } from 'zod';
import { isIsoDate, type DateRange } from '../core/dates.js';
import { queue, sendJson, type StorageClients } from '../storage/blobStore.js';

const isoDate = z.string().refine(isIsoDate, 'expected a date as YYYY-MM-DD');

export const transformRequestSchema = z
  .object({
    source: z.string().min(1).max(64),
    from: isoDate,
    to: isoDate,
    reason: z.string().max(256).default('ingest'),
    mode: z.enum(['load', 'rebuild']).default('load'),
  })
  .refine((r) => r.from <= r.to, { message: '`from` must not be after `to`', path: ['from'] });

export type TransformRequest = z.infer<typeof transformRequestSchema>;

export async function requestTransform(clients: StorageClients, source: string, range: DateRange, reason: string, mode: TransformRequest['mode'] = 'load'): Promise<void> {
  const message: TransformRequest = { source, from: range.from, to: range.to, reason, mode };
  await sendJson(queue(clients, 'transformRequests'), message);
}
