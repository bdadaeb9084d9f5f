/**
 * When a timed stage's data was published: the end of its last successful transform run, whose
 * models are then committed and readable (Power BI, analysts). The HTML report is written after
 * that, in the same invocation; the benchmarks show both times.
 */
import type { LocalHost } from '../functions/local/localHost.js';

/** Wall-clock ms (`Date.now()` scale) at which the last transform run started since `since` finished successfully. */
export async function publishedAtMs(host: LocalHost, since: Date): Promise<number | undefined> {
  const [row] = await host.ctx.warehouse.query<{ at: number | null }>(
    `SELECT MAX(epoch_ms(finished_at)) AS at FROM ops.pipeline_runs WHERE kind = 'transform' AND status = 'succeeded' AND started_at >= @since`,
    { since },
  );
  return row?.at ?? undefined;
}
