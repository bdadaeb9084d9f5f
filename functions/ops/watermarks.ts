/** Per-source watermarks: the last activity date safely written to bronze. */
import type { IsoDate } from '../core/dates.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export async function readWatermark(wh: Warehouse, source: string): Promise<IsoDate | undefined> {
  const rows = await wh.query<{ watermark_date: string }>(`SELECT watermark_date FROM ops.watermarks WHERE source = @source`, { source });
  return rows[0]?.watermark_date;
}

/** Moves the watermark forward (never back: a late, slower writer cannot undo progress). */
export async function advanceWatermark(wh: Warehouse, source: string, date: IsoDate, runId: string): Promise<void> {
  await wh.transaction(async (tx) => {
    const params = { source, d: date, now: new Date(), run_id: runId };
    const changed = await tx.exec(
      `UPDATE ops.watermarks SET watermark_date = CAST(@d AS DATE), updated_at = @now, run_id = @run_id
       WHERE source = @source AND watermark_date < CAST(@d AS DATE)`,
      params,
    );
    if (changed === 0) {
      const exists = await tx.query(`SELECT 1 AS x FROM ops.watermarks WHERE source = @source`, { source });
      if (exists.length === 0)
        await tx.exec(`INSERT INTO ops.watermarks (source, watermark_date, updated_at, run_id) VALUES (@source, CAST(@d AS DATE), @now, @run_id)`, params);
    }
  });
}
