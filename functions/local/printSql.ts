/**
 * `npm run sql:print [-- --engine mssql|duckdb] [--select <selector>]` (default: mssql, all):
 * prints, for a DBA to review, the exact SQL the pipeline runs on that engine: the bootstrap
 * batches (schemas, tables), then every model's statements in build order with the tables it
 * reads, macros expanded and integer slots filled from the current settings, and its data tests.
 * `--select` (a graph selector, as for `npm run ops -- rerun`) prints only those models. Nothing
 * connects to a database.
 *
 * For T-SQL, each batch / statement is followed by a `GO` line, so the script reads (and runs in
 * SSMS / sqlcmd) batch by batch; the pipeline sends each one on its own, without the `GO`. For
 * DuckDB, statements are separated by `;`. Model statements take `@name` parameters (bound by
 * the transform run; DuckDB sees them as `$name`): each statement lists the ones it uses.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, type Settings } from '../core/settings.js';
import { MODEL_GRAPH, WAREHOUSE_SCHEMA } from '../domains/registry.js';
import { testName, testQuerySql } from '../quality/dataTests.js';
import { SelectionError, type ModelGraph } from '../transform/graph.js';
import { modelTests, renderModelSql } from '../transform/models.js';
import { bootstrapBatches } from '../warehouse/ddl.js';
import { parameterNames, splitStatements } from '../warehouse/sqlText.js';
import type { EngineName } from '../warehouse/warehouse.js';

const ENGINES: readonly EngineName[] = ['mssql', 'duckdb'];

export interface PrintArgs {
  engine: EngineName;
  /** Only these models (a graph selector), without the bootstrap. */
  select?: string;
}

export function parsePrintArgs(argv: readonly string[]): PrintArgs {
  let engine: string = 'mssql';
  let select: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--engine') engine = argv[++i] ?? '';
    else if (arg.startsWith('--engine=')) engine = arg.slice('--engine='.length);
    else if (arg === '--select') select = argv[++i] ?? '';
    else if (arg.startsWith('--select=')) select = arg.slice('--select='.length);
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument: ${arg}`);
  }
  if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}, got "${engine}"`);
  if (select !== undefined && select.trim() === '') throw new UsageError('--select needs a selector: a domain, a model or a source, with + for parents or children');
  return { engine: engine as EngineName, ...(select ? { select } : {}) };
}

class UsageError extends Error {}

const rule = (title: string) => `-- ${'='.repeat(4)} ${title} ${'='.repeat(Math.max(4, 92 - title.length))}`;

/** One statement (a T-SQL batch) the pipeline sends, named for where it comes from. */
export interface ReviewStatement {
  /** `bootstrap`, or the model the statement or data test belongs to. */
  section: string;
  /** `bootstrap batch 3`, `statement 2 of 2`, `data test unique(…)`. */
  name: string;
  sql: string;
  /** The comment line the script shows above it (parameters, severity). */
  comment?: string;
}

export interface ReviewOptions {
  /** Only these models (a graph selector), without the bootstrap. */
  select?: string;
  graph?: ModelGraph;
}

/**
 * Every statement `npm run sql:print` shows, in order: the bootstrap batches (schemas, tables,
 * indexes, views), then per model its statements and its data tests. The grammar test parses
 * these; the script prints them.
 */
export function reviewStatements(engine: EngineName, settings: Settings, options: ReviewOptions = {}): ReviewStatement[] {
  const graph = options.graph ?? MODEL_GRAPH;
  const out: ReviewStatement[] = [];
  if (!options.select) {
    const batches = bootstrapBatches(engine, WAREHOUSE_SCHEMA).flatMap((batch) => (engine === 'duckdb' ? splitStatements(batch) : [batch])); // DuckDB runs each statement on its own
    batches.forEach((sql, i) => out.push({ section: 'bootstrap', name: `bootstrap batch ${i + 1}`, sql }));
  }
  for (const model of options.select ? graph.select(options.select) : graph.models) {
    const domain = graph.domains.find((d) => d.name === model.domain)!;
    const statements = model.kind === 'sql' ? renderModelSql(model, engine, domain.values(settings).slots) : [];
    statements.forEach((sql, i) => {
      const params = parameterNames(sql);
      const name = `statement ${i + 1} of ${statements.length}`;
      out.push({ section: model.name, name, sql, comment: `${name}${params.length ? `; parameters: ${params.map((p) => `@${p}`).join(', ')}` : ''}` });
    });
    // its data tests, run in the same transaction before it commits (scoped to the rebuilt dates)
    const scope = { table: model.table, dateColumn: model.refresh === 'date_range' ? model.dateColumn : undefined, range: { from: '@date_from', to: '@date_to' }, now: new Date() };
    for (const t of modelTests(model, engine)) {
      const { sql, params } = testQuerySql(t, scope);
      const all = Object.keys(params).map((p) => `@${p}`);
      const names = all.length > 8 ? [...all.slice(0, 3), `… (${all.length} in all)`] : all;
      const name = `data test ${testName(t)}`;
      out.push({ section: model.name, name, sql, comment: `${name} (${t.severity ?? 'error'})${names.length ? `; parameters: ${names.join(', ')}` : ''}` });
    }
  }
  return out;
}

/** The whole review script for one engine: the bootstrap and every model, or only the selected models. */
export function renderSqlScript(engine: EngineName, settings: Settings, options: ReviewOptions = {}): string {
  const graph = options.graph ?? MODEL_GRAPH;
  const out: string[] = [];
  const end = (sqlText: string) => (engine === 'mssql' ? `${sqlText}\nGO\n` : `${sqlText};\n`);

  out.push(
    `-- SQL run by the pipeline on ${engine === 'mssql' ? 'SQL Server / Azure SQL (T-SQL)' : 'DuckDB'}${options.select ? `, models selected by "${options.select}"` : ''}.`,
    `-- Generated by \`npm run sql:print -- --engine ${engine}${options.select ? ` --select ${options.select}` : ''}\`; ${engine === 'mssql' ? '`GO` lines separate the batches sent one by one' : 'statements are sent one by one'}.`,
  );
  if (!options.select) {
    out.push('', rule('bootstrap: runs when ops.schema_version differs from this DDL; idempotent'));
    if (engine === 'mssql') {
      out.push(
        '-- The engine runs these batches in one transaction holding the application lock',
        "-- 'company-activity-pipeline:bootstrap' (sp_getapplock), then records the DDL's hash in",
        '-- ops.schema_version; an open that finds that hash runs none of them. Each batch is guarded.',
      );
    }
    out.push('');
  }
  let section = 'bootstrap';
  for (const st of reviewStatements(engine, settings, options)) {
    if (st.section !== section) {
      section = st.section;
      const model = graph.node(section);
      if (model.kind === 'model') {
        const m = model.model;
        out.push('', rule(`model ${m.name} (${m.kind === 'sql' ? `sql/${m.file}` : 'code model'}; domain ${m.domain})`));
        out.push(`-- reads: ${model.parents.length ? model.parents.join(', ') : '(nothing)'}`, `-- refresh: ${m.refresh}${m.dateColumn ? ` by ${m.dateColumn}` : ''}`, '');
        if (m.kind === 'code') out.push(`-- built in TypeScript (its domain's models.ts names the function); it reads ${m.reads.join(', ')}`, '');
      }
    }
    if (st.comment) out.push(`-- ${st.comment}`);
    out.push(end(st.sql));
  }
  return out.join('\n');
}

const USAGE = 'usage: npm run sql:print [-- --engine mssql|duckdb] [--select <selector>]   (default: mssql, everything)';

function main(): void {
  let args: PrintArgs;
  try {
    args = parsePrintArgs(process.argv.slice(2));
    process.stdout.write(renderSqlScript(args.engine, loadSettings(), args.select ? { select: args.select } : {}));
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof SelectionError)) throw err;
    if (err.message) console.error(err.message);
    console.error(USAGE);
    process.exitCode = err.message ? 2 : 0;
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) main();
