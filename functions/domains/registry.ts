/**
 * Every domain the pipeline runs, and what follows from them: the sources (a landing folder
 * selects its upload source), the model graph (checked here, at start-up: a cycle or a model
 * reading a table nothing builds stops the app with every problem named) and every warehouse
 * table and view. Adding a domain is one line here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OPS_TABLES, type TableDef } from '../warehouse/catalog.js';
import { SQL_DIR, type WarehouseSchema } from '../warehouse/ddl.js';
import { renderSql } from '../warehouse/macros.js';
import { parameterNames, splitStatements } from '../warehouse/sqlText.js';
import type { EngineName } from '../warehouse/warehouse.js';
import { ModelGraph } from '../transform/graph.js';
import type { UploadSource } from '../sources/uploadSource.js';
import { companyActivity } from './company_activity/domain.js';
import { crmWarehouse } from './crm_warehouse/domain.js';
import { customerAnalytics } from './customer_analytics/domain.js';
import type { BronzeSource, Domain, ViewDef } from './domain.js';

export const DOMAINS: readonly Domain[] = [companyActivity, crmWarehouse, customerAnalytics];

export const UPLOAD_SOURCES: readonly UploadSource[] = DOMAINS.flatMap((d) => d.uploadSources);
export const BRONZE_SOURCES: readonly BronzeSource[] = DOMAINS.flatMap((d) => d.bronzeSources);

export function uploadSourceFor(folder: string): UploadSource | undefined {
  return UPLOAD_SOURCES.find((s) => s.name === folder);
}

export function domainOf(sourceOrModel: string): Domain | undefined {
  return DOMAINS.find((d) => d.bronzeSources.some((s) => s.name === sourceOrModel) || d.models.some((m) => m.name === sourceOrModel));
}

export const MODEL_GRAPH: ModelGraph = ModelGraph.build(DOMAINS);

/** Every warehouse table: the pipeline's own, each source's bronze table, each model's table. */
export const ALL_TABLES: readonly TableDef[] = [...Object.values(OPS_TABLES), ...BRONZE_SOURCES.map((s) => s.table), ...MODEL_GRAPH.models.map((m) => m.table)];

/** A warehouse table by its schema-qualified name (`gold.fact_company_activity_daily`). */
export function tableNamed(name: string): TableDef {
  const table = ALL_TABLES.find((t) => `${t.schema}.${t.name}` === name);
  if (!table) throw new Error(`no warehouse table ${name}`);
  return table;
}

/** A view's SELECT for an engine: one statement, macros expanded, no parameters (a view takes none). */
export function renderViewSql(view: ViewDef, engine: EngineName): string {
  const text = readFileSync(path.join(SQL_DIR, view.file), 'utf8');
  const statements = splitStatements(renderSql(text, engine));
  if (statements.length !== 1 || !/^\s*(--[^\n]*\n\s*)*(WITH|SELECT)\b/i.test(statements[0]!)) {
    throw new Error(`sql/${view.file}: a view is one SELECT statement (a WITH … SELECT is fine)`);
  }
  if (parameterNames(statements[0]!).length > 0) throw new Error(`sql/${view.file}: a view takes no @parameters`);
  return statements[0]!;
}

/** What the bootstrap creates: every table, then the reporting views in graph order. */
export const WAREHOUSE_SCHEMA: WarehouseSchema = {
  tables: ALL_TABLES,
  views: (engine) => MODEL_GRAPH.views.map((v) => ({ name: v.name, select: renderViewSql(v, engine) })),
};
