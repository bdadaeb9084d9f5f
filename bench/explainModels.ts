/**
 * Where a model's build time goes, on the state a benchmark run kept (`npm run bench -- --dir D
 * --keep`). For each model it takes a fresh copy of the warehouse file (D itself is never
 * touched), runs the model's statements exactly as the transform does (same SQL, same date range
 * as the largest recorded build of that model), times each statement, and rolls back.
 *
 *   npx tsx bench/explainModels.ts --dir D                        rebuild over the existing rows (DELETE + INSERT)
 *   npx tsx bench/explainModels.ts --dir D --empty                the first build: the model's table starts empty
 *   npx tsx bench/explainModels.ts --dir D --without-keys         with the table's PRIMARY KEY left out (a no-op where
 *                                                                 the DDL already leaves it out: DuckDB data tables)
 *   … --model gold.fact_company_activity_daily --threads 2 --memory-limit 512MB --plans (EXPLAIN ANALYZE each statement)
 *   … --from 2026-11-30 --to 2026-11-30                          those dates instead of the largest build's (a day's run)
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings } from '../functions/core/settings.js';
import { renderModelSql, type SqlModelDef } from '../functions/transform/models.js';
import { createTableSql } from '../functions/warehouse/ddl.js';
import { MODEL_GRAPH, WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { parameterNames } from '../functions/warehouse/sqlText.js';
import type { SqlParams } from '../functions/warehouse/warehouse.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    model: { type: 'string', multiple: true },
    empty: { type: 'boolean', default: false },
    'without-keys': { type: 'boolean', default: false },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
    plans: { type: 'boolean', default: false },
    from: { type: 'string' },
    to: { type: 'string' },
  },
});

class Rollback extends Error {}


/** Recreates the model's table as asked (empty and/or without its key), outside any transaction. */
async function prepareTable(wh: DuckDbWarehouse, model: SqlModelDef): Promise<void> {
  if (!args.empty && !args['without-keys']) return;
  const t = model.table;
  const name = `${t.schema}.${t.name}`;
  const def = args['without-keys'] ? { ...t, key: undefined } : t;
  if (!args.empty) await wh.exec(`CREATE TABLE ${t.schema}.bench_keep AS SELECT * FROM ${name}`);
  await wh.exec(`DROP TABLE ${name}`);
  await wh.exec(createTableSql('duckdb', def));
  if (!args.empty) {
    await wh.exec(`INSERT INTO ${name} SELECT * FROM ${t.schema}.bench_keep`);
    await wh.exec(`DROP TABLE ${t.schema}.bench_keep`);
  }
}

async function explainModel(source: string, model: SqlModelDef): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'explain-models-'));
  const copy = path.join(scratch, 'warehouse.duckdb');
  try {
    await copyFile(source, copy);
    const settings = loadSettings({ ...process.env, WAREHOUSE_ENGINE: 'duckdb', DUCKDB_PATH: copy });
    const wh = await DuckDbWarehouse.open(copy, { schema: WAREHOUSE_SCHEMA });
    try {
      if (args.threads) await wh.exec(`SET threads = ${Number(args.threads)}`);
      if (args['memory-limit']) await wh.exec(`SET memory_limit = '${args['memory-limit'].replace(/'/g, '')}'`);
      const [largest] = await wh.query<{ detail: string | null; duration_ms: number; rows_out: number | null }>(
        `SELECT detail, duration_ms, rows_out FROM ops.run_steps WHERE step_name = @name AND status = 'succeeded' ORDER BY rows_out DESC LIMIT 1`,
        { name: model.name },
      );
      const recorded = largest?.detail ? (JSON.parse(largest.detail) as { from?: string; to?: string }) : {};
      const detail = { from: args.from ?? recorded.from, to: args.to ?? recorded.to };
      if (!detail.from || !detail.to) {
        console.log(`${model.name}: no recorded build; skipped\n`);
        return;
      }
      await prepareTable(wh, model);
      const [have] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${model.table.schema}.${model.table.name}`);
      const [cfg] = await wh.query<{ threads: string; memory_limit: string }>(`SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS memory_limit`);
      console.log(
        `${model.name}: ${detail.from} … ${detail.to}; table has ${have?.n ?? 0} rows${args['without-keys'] ? ', no primary key' : ''}; ` +
          `threads ${cfg?.threads}, memory_limit ${cfg?.memory_limit} (recorded build: ${largest ? `${largest.duration_ms} ms, ${largest.rows_out} rows` : "none"})`,
      );
      const values = MODEL_GRAPH.domains.find((d) => d.name === model.domain)!.values(settings);
      const params: SqlParams = { ...values.parameters, date_from: detail.from, date_to: detail.to };
      const rss0 = process.resourceUsage().maxRSS;
      let total = 0;
      await wh
        .transaction(async (tx) => {
          for (const [i, sql] of renderModelSql(model, 'duckdb', values.slots).entries()) {
            const p: SqlParams = {};
            for (const n of parameterNames(sql)) p[n] = params[n]!;
            const firstLine = sql.split('\n').find((l) => l.trim() && !l.trim().startsWith('--'))?.trim() ?? '';
            const t0 = performance.now();
            if (args.plans) {
              const plan = await tx.query<{ explain_value: string }>(`EXPLAIN ANALYZE ${sql}`, p);
              const ms = performance.now() - t0;
              total += ms;
              console.log(`  [${i + 1}] ${ms.toFixed(0)} ms (under EXPLAIN ANALYZE)  ${firstLine.slice(0, 70)}`);
              for (const row of plan) console.log(row.explain_value);
            } else {
              const n = await tx.exec(sql, p);
              const ms = performance.now() - t0;
              total += ms;
              console.log(`  [${i + 1}] ${ms.toFixed(0).padStart(6)} ms  ${String(n).padStart(9)} rows  ${firstLine.slice(0, 70)}`);
            }
          }
          throw new Rollback();
        })
        .catch((err: unknown) => {
          if (!(err instanceof Rollback)) throw err;
        });
      const maxRss = process.resourceUsage().maxRSS;
      console.log(`  total ${total.toFixed(0)} ms; this process's peak RSS ${(maxRss / 1024).toFixed(0)} MB${maxRss > rss0 ? '' : ' (reached earlier)'}\n`);
    } finally {
      await wh.close();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!args.dir) throw new Error('pass --dir, the state directory of a benchmark run made with --keep');
  const source = path.join(path.resolve(args.dir), 'warehouse.duckdb');
  const sqlModels = MODEL_GRAPH.models.filter((m): m is SqlModelDef => m.kind === 'sql');
  const models = sqlModels.filter((m) => !args.model || args.model.includes(m.name));
  if (models.length === 0) throw new Error(`no such SQL model; the SQL models are ${sqlModels.map((m) => m.name).join(', ')}`);
  for (const model of models) await explainModel(source, model);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
