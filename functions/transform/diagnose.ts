/**
 * What a failing model's error says, beyond the engine's message: the model and its SQL file, the
 * bronze files this run loaded into the sources it reads (the first suspects of a failure caused
 * by data), and — when the engine's message quotes the value it could not take — the file, line
 * and column holding that value. Then what to do: isolate the file, and the next run carries on.
 */
import type { PipelineContext } from '../core/context.js';
import type { Run } from '../ops/runs.js';
import type { SqlParams } from '../warehouse/warehouse.js';
import type { ModelGraph } from './graph.js';
import type { ModelDef } from './models.js';

/** Values an engine's message quotes: `Could not convert string 'x' to DATE`, `converting the nvarchar value 'x' to …`. */
export function quotedValues(message: string): string[] {
  const values = new Set<string>();
  for (const m of message.matchAll(/'([^'\n]{1,200})'|"([^"\n]{1,200})"/g)) values.add((m[1] ?? m[2])!);
  return [...values].slice(0, 3);
}

interface Located {
  source: string;
  column: string;
  bronze_file: string;
  _source_file: string;
  _row_number: number;
}

export async function explainModelError(ctx: PipelineContext, run: Run, graph: ModelGraph, model: ModelDef, err: unknown): Promise<Error> {
  const where = model.kind === 'sql' ? ` (sql/${model.file})` : '';
  const message = err instanceof Error ? err.message : String(err);
  const sources = [...graph.ancestors(model.name)].flatMap((n) => {
    const node = graph.node(n);
    return node.kind === 'source' ? [node.source] : [];
  });
  const params: SqlParams = { run_id: run.runId };
  const inList = sources.map((s, i) => ((params[`s${i}`] = s.name), `@s${i}`)).join(', ');
  const loaded = sources.length
    ? await ctx.warehouse
        .query<{ bronze_file: string; row_count: number }>(`SELECT bronze_file, row_count FROM ops.loaded_files WHERE run_id = @run_id AND source IN (${inList}) ORDER BY bronze_file`, params)
        .catch(() => [])
    : [];
  const located = await locateValues(ctx, sources, loaded.map((f) => f.bronze_file), quotedValues(message));

  let text = `${model.name}${where}: ${message}.`;
  if (located.length) {
    text += ` The value is in ${located
      .map((l) => `${l.bronze_file}, line ${l._row_number} (from ${l._source_file}), column ${l.column}`)
      .join('; ')}.`;
  }
  if (loaded.length) {
    text += ` Files loaded by this run into its sources (${sources.map((s) => s.name).join(', ')}): ${loaded
      .slice(0, 5)
      .map((f) => `${f.bronze_file} (${f.row_count} rows)`)
      .join(', ')}${loaded.length > 5 ? `, and ${loaded.length - 5} more` : ''}.`;
  }
  if (located.length || loaded.length) {
    text += ' If a file holds data the model cannot take, isolate it (npm run ops -- quarantine --file <file> --reason "…", or POST /api/ops/quarantine) and the next run carries on without it.';
  }
  return new Error(text, { cause: err });
}

/**
 * The rows of the given bronze files (all files when none are given) whose text columns hold one
 * of the values: at most a few, by source. Best effort: a failure here never hides the model's error.
 */
async function locateValues(ctx: PipelineContext, sources: ModelGraph['bronzeSources'], files: string[], values: string[]): Promise<Located[]> {
  if (values.length === 0) return [];
  const found: Located[] = [];
  for (const source of sources) {
    const table = source.table;
    const textColumns = table.columns.filter((c) => c.type.kind === 'string' && !c.name.startsWith('_')).map((c) => c.name);
    if (textColumns.length === 0) continue;
    const params: SqlParams = {};
    const valueList = values.map((v, i) => ((params[`v${i}`] = v), `@v${i}`)).join(', ');
    const fileFilter = files.length ? ` AND _bronze_file IN (${files.map((f, i) => ((params[`f${i}`] = f), `@f${i}`)).join(', ')})` : '';
    // identifiers from the catalogue; values bound as parameters
    const branches = textColumns.map(
      (c) => `SELECT '${c}' AS column_name, _bronze_file AS bronze_file, _source_file, _row_number FROM ${table.schema}.${table.name} WHERE ${c} IN (${valueList})${fileFilter}`,
    );
    const rows = await ctx.warehouse
      .query<{ column_name: string; bronze_file: string; _source_file: string; _row_number: number }>(
        `SELECT * FROM (SELECT h.*, ROW_NUMBER() OVER (ORDER BY h.bronze_file, h._row_number) AS hit FROM (${branches.join(' UNION ALL ')}) h) r WHERE hit <= 3`,
        params,
      )
      .catch(() => []);
    for (const r of rows) found.push({ source: source.name, column: r.column_name, bronze_file: r.bronze_file, _source_file: r._source_file, _row_number: r._row_number });
    if (found.length >= 3) break;
  }
  return found.slice(0, 3);
}
