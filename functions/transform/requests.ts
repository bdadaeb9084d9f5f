/**
 * Transform requests: the queue message both ingesters send with the date range they touched.
 * The transform treats a request as a hint (it also loads whatever new bronze files exist), so a
 * lost or duplicated message never loses or doubles data.
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
  })
  .refine((r) => r.from <= r.to, { message: '`from` must not be after `to`', path: ['from'] });

export type TransformRequest = z.infer<typeof transformRequestSchema>;

export async function requestTransform(clients: StorageClients, source: string, range: DateRange, reason: string): Promise<void> {
  const message: TransformRequest = { source, from: range.from, to: range.to, reason };
  await sendJson(queue(clients, 'transformRequests'), message);
}
