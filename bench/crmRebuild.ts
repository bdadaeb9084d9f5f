/**
 * The CRM models alone, on the state a CRM benchmark run kept (`npm run bench -- --domain crm --dir D
 * --keep`), in a process of its own: a copy of its warehouse (D is never touched), a fresh Azurite,
 * and the real transform. For measuring a model change back to back without the ingest.
 *
 *   npx tsx bench/crmRebuild.ts --dir D --full              every CRM model from empty (their tables and key maps emptied first)
 *   npx tsx bench/crmRebuild.ts --dir D --day 2026-11-30    the models' work of a day's run: a rebuild of that date
 *   … --memory-limit 768MB --threads 2                       DuckDB settings (default: the settings' DUCKDB_*)
 *   … --set checkpoint_threshold=1GB                         any other DuckDB setting (repeatable)
 *
 * Prints the wall time of the transform, its model steps (their data tests included, as the CRM
 * bench counts them), this process's CPU and peak RSS, and the slowest models.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CRM_MODELS } from '../functions/domains/crm_warehouse/models.js';
import { consoleLog } from '../functions/core/log.js';
import { LocalHost } from '../functions/local/localHost.js';
import { runTransform } from '../functions/transform/transform.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    full: { type: 'boolean', default: false },
    day: { type: 'string' },
    'memory-limit': { type: 'string' },
    threads: { type: 'string' },
    top: { type: 'string', default: '8' },
    set: { type: 'string', multiple: true },
  },
});

async function main(): Promise<void> {
  if (!args.dir || (!args.full && !args.day)) throw new Error('pass --dir D and --full or --day YYYY-MM-DD');
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'crm-rebuild-'));
  const warehouse = path.join(scratch, 'warehouse.duckdb');
  await copyFile(path.join(path.resolve(args.dir), 'warehouse.duckdb'), warehouse);
  const env: Record<string, string> = { DUCKDB_PATH: warehouse };
  if (args['memory-limit']) env.DUCKDB_MEMORY_LIMIT = args['memory-limit'];
  if (args.threads) env.DUCKDB_THREADS = args.threads;
  const loud = consoleLog('    ');
  const host = await LocalHost.start({ dir: scratch, env, log: { info: () => {}, warn: () => {}, error: (m, p) => loud.error(m, p) } });
  try {
    const wh = host.ctx.warehouse;
    for (const kv of args.set ?? []) {
      const [name, value] = kv.split('=');
      if (!name || value === undefined || !/^[a-z_]+$/.test(name)) throw new Error(`--set takes name=value, got ${kv}`);
      await wh.exec(`SET ${name} = '${value.replace(/'/g, '')}'`);
    }
    if (args.full) for (const m of CRM_MODELS) await wh.exec(`DELETE FROM ${m.name}`);
    const [cfg] = await wh.query<{ threads: string; memory_limit: string; checkpoint: string }>(
      `SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS memory_limit, current_setting('checkpoint_threshold') AS checkpoint`,
    );
    const range = args.full ? { from: '1900-01-01', to: '9999-12-31' } : { from: args.day!, to: args.day! };
    const since = new Date();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const outcome = await runTransform(host.ctx, [{ source: 'select', ...range, reason: 'bench', mode: 'rebuild', select: 'crm_warehouse' }]);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (outcome.status !== 'done') throw new Error(`transform ${outcome.status}`);
    const steps = await wh.query<{ step_name: string; duration_ms: number; rows_out: number | null }>(
      `SELECT s.step_name, s.duration_ms, s.rows_out FROM ops.run_steps s JOIN ops.pipeline_runs r ON r.run_id = s.run_id WHERE r.started_at >= @since ORDER BY s.step_seq`,
      { since },
    );
    const names = new Set<string>(CRM_MODELS.map((m) => m.name));
    const models = steps.filter((s) => names.has(s.step_name));
    const tests = steps.filter((s) => s.step_name.startsWith('tests ') && names.has(s.step_name.slice(6)));
    const sum = (xs: { duration_ms: number }[]) => xs.reduce((n, s) => n + Number(s.duration_ms), 0);
    const report = steps.find((s) => s.step_name === 'report');
    console.log(
      `${args.full ? 'full build' : `day ${args.day}`}: transform ${(ms / 1000).toFixed(2)} s, models ${(sum(models) / 1000).toFixed(2)} s (of which tests ${(sum(tests) / 1000).toFixed(2)} s), ` +
        `report ${report ? (Number(report.duration_ms) / 1000).toFixed(2) : '-'} s; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s; ` +
        `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; DuckDB threads ${cfg?.threads}, memory_limit ${cfg?.memory_limit}, checkpoint_threshold ${cfg?.checkpoint}`,
    );
    for (const m of [...models].sort((a, b) => Number(b.duration_ms) - Number(a.duration_ms)).slice(0, Number(args.top))) {
      console.log(`  ${m.step_name.padEnd(36)} ${(Number(m.duration_ms) / 1000).toFixed(2).padStart(6)} s  ${String(m.rows_out ?? '').padStart(9)} rows`);
    }
  } finally {
    await host.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
