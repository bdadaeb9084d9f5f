/**
 * On SQL Server, a statement run outside a transaction is retried when the connection drops — and
 * a drop can come after the server has run it (the acknowledgement is what got lost). Every such
 * statement must then be safe to run twice. Here each one is run twice for real: the whole
 * pipeline tour goes through a warehouse that runs every retried statement, reports a dropped
 * connection, and lets the real retry run it again. The pipeline must end exactly as without.
 */
import { describe, expect, it } from 'vitest';
import { lostAcknowledgementWarehouse } from './support/warehouseWrappers.js';
import { pipelineTour } from './support/pipelineTour.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';

describe('statements retried after a lost acknowledgement', () => {
  it('change nothing: every autocommit statement runs twice and the pipeline ends as it would have', { timeout: 180_000 }, async () => {
    const reference = await pipelineTour();
    let lossy: (Warehouse & { replays: number }) | undefined;
    const disturbed = await pipelineTour((wh) => (lossy = lostAcknowledgementWarehouse(wh)));
    expect(lossy!.replays).toBeGreaterThan(100);
    expect(reference.failures).toBe(0);
    expect(reference.failedOperations).toEqual([]);
    expect(disturbed.failures).toBe(0);
    expect(disturbed.failedOperations).toEqual([]);
    expect(disturbed.duplicateKeys).toEqual([]);
    expect(disturbed.fileStatuses).toEqual(reference.fileStatuses);
    expect(disturbed.gold).toEqual(reference.gold);
    expect(reference.gold.rows).toBeGreaterThan(0);
  });
});
