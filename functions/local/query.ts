/**
 * `npm run query -- "<SQL>"`: runs one query against the local warehouse and prints the rows —
 * for looking at what `npm start` built without installing the DuckDB CLI. Stop `npm run dev`
 * first: DuckDB lets one process at a time open the file.
 *
 *   npm run query -- "SELECT * FROM ops.pipeline_runs ORDER BY started_at DESC LIMIT 5"
 */
import { existsSync } from 'node:fs';
import { loadSettings } from '../core/settings.js';
import { WAREHOUSE_SCHEMA } from '../domains/registry.js';
import { DuckDbWarehouse } from '../warehouse/duckdb/duckdbWarehouse.js';

async function main(): Promise<void> {
  const sql = process.argv.slice(2).join(' ').trim();
  if (!sql) throw new Error('give the query as an argument, e.g. npm run query -- "SELECT COUNT(*) FROM gold.fact_company_activity_daily"');
  const settings = loadSettings();
  if (!existsSync(settings.duckdbPath)) throw new Error(`no warehouse at ${settings.duckdbPath}: run npm start first (or set PIPELINE_LOCAL_DIR)`);
  const wh = await DuckDbWarehouse.open(settings.duckdbPath, { schema: WAREHOUSE_SCHEMA, memoryLimit: settings.DUCKDB_MEMORY_LIMIT });
  try {
    const rows = await wh.query(sql);
    if (rows.length === 0) console.log('(no rows)');
    else console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]))));
  } finally {
    await wh.close();
  }
}

main().catch((err: unknown) => {
  console.error(`query failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
