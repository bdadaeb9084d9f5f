/**
 * Transform requests: the queue message both ingesters send with the date range they touched.
 *
 * - `mode: 'load'` (what the ingesters send) is a wake-up call: the transform loads whatever new
 *   bronze files exist and rebuilds the dates those files touch, so a lost, late or duplicated
 *   message never loses or doubles data, and messages for files already loaded cost nothing.
 * - `mode: 'rebuild'` also rebuilds over `from`..`to` even without new files (operations:
 *   re-run transforms for a date range): with `select`, the selected models (`graph.ts`
 *   selectors); without, every model downstream of `source`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isIsoDate, type DateRange, type IsoDate } from '../core/dates.js';
import { queue, sendJson, type StorageClients } from '../storage/blobStore.js';
import type { SqlSession } from '../warehouse/warehouse.js';

const isoDate = z.string().refine(isIsoDate, 'expected a date as YYYY-MM-DD');

export const transformRequestSchema = z
  .object({
    source: z.string().min(1).max(64),
    from: isoDate,
    to: isoDate,
    reason: z.string().max(256).default('ingest'),
    mode: z.enum(['load', 'rebuild']).default('load'),
    select: z.string().min(1).max(400).optional(),
  })
  .refine((r) => r.from <= r.to, { message: '`from` must not be after `to`', path: ['from'] });

export type TransformRequest = z.infer<typeof transformRequestSchema>;

export async function requestTransform(
  clients: StorageClients,
  source: string,
  range: DateRange,
  reason: string,
  mode: TransformRequest['mode'] = 'load',
  select?: string,
): Promise<void> {
  const message: TransformRequest = { source, from: range.from, to: range.to, reason, mode, ...(select ? { select } : {}) };
  await sendJson(queue(clients, 'transformRequests'), message);
}

/**
 * Leaves dates to rebuild in `ops.transform_requests` (in the caller's transaction when given one).
 * Outside a transaction the statement may be retried after a lost acknowledgement: it inserts its
 * request only once.
 */
export async function recordRequest(session: SqlSession, r: { source: string; from: IsoDate; to: IsoDate; reason: string; select?: string }, now: Date): Promise<void> {
  await session.exec(
    `INSERT INTO ops.transform_requests (request_id, source, date_from, date_to, reason, requested_at, status, selector)
     SELECT @id, @source, CAST(@date_from AS DATE), CAST(@date_to AS DATE), @reason, @now, 'pending', @selector
     WHERE NOT EXISTS (SELECT 1 FROM ops.transform_requests WHERE request_id = @id)`,
    { id: randomUUID(), source: r.source, date_from: r.from, date_to: r.to, reason: recordedReason(r.reason), now, selector: r.select ?? null },
  );
}

/** `reason` as `ops.transform_requests` holds it (a request from the queue is validated to fit; a load's is generated). */
function recordedReason(reason: string): string {
  const max = 256;
  return reason.length <= max ? reason : `${reason.slice(0, max - 1)}…`;
}
