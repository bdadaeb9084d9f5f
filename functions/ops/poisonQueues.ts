/**
 * Poison queues: where the host moves a message after its last failed attempt. Data never lives
 * only in a message (it is in bronze and `ops`), but a poisoned message means something failed
 * five times in a row: report how many wait, without consuming them (they are the evidence).
 */
import type { PipelineContext } from '../core/context.js';
import { EVENTS, METRICS } from '../core/telemetry.js';
import { QUEUES } from '../storage/blobStore.js';

export async function checkPoisonQueues(ctx: PipelineContext): Promise<{ queue: string; messages: number }[]> {
  const found: { queue: string; messages: number }[] = [];
  for (const name of Object.values(QUEUES)) {
    const poison = ctx.storage.queues.getQueueClient(`${name}-poison`);
    const messages = (await poison.exists()) ? ((await poison.getProperties()).approximateMessagesCount ?? 0) : 0;
    found.push({ queue: poison.name, messages });
    ctx.telemetry.metric(METRICS.poisonMessages, messages, { queue: poison.name });
    if (messages > 0) {
      const [first] = (await poison.peekMessages({ numberOfMessages: 1 })).peekedMessageItems;
      ctx.telemetry.event(EVENTS.poisonMessage, { queue: poison.name, messages, message: first?.messageText.slice(0, 1_000) });
      ctx.log.error(`${messages} message(s) in ${poison.name}: something failed on every attempt; see docs/operations.md, "What to do when"`, { queue: poison.name, messages });
    }
  }
  return found;
}
