/**
 * A named lease in `ops.leases`: one transform run at a time, on either engine. Taking it is a
 * single conditional UPDATE (atomic on both engines); a crashed holder's lease simply expires.
 */
import { isDuplicateKeyError } from '../warehouse/errors.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export async function tryAcquireLease(wh: Warehouse, name: string, owner: string, seconds: number, now: Date): Promise<boolean> {
  await wh
    .exec(
      `INSERT INTO ops.leases (lease_name, owner, expires_at)
       SELECT @name, NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM ops.leases WHERE lease_name = @name)`,
      { name },
    )
    .catch((err: unknown) => {
      // a concurrent insert of the same row is fine: the row exists either way
      if (!isDuplicateKeyError(err)) throw err;
      return 0;
    });
  const taken = await wh.exec(
    `UPDATE ops.leases SET owner = @owner, expires_at = @expires_at
     WHERE lease_name = @name AND (owner IS NULL OR owner = @owner OR expires_at < @now)`,
    { name, owner, expires_at: new Date(now.getTime() + seconds * 1000), now },
  );
  return taken === 1;
}

export async function releaseLease(wh: Warehouse, name: string, owner: string): Promise<void> {
  await wh.exec(`UPDATE ops.leases SET owner = NULL, expires_at = NULL WHERE lease_name = @name AND owner = @owner`, { name, owner });
}
