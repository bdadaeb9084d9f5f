/**
 * Every domain the pipeline runs, and what follows from them: the sources (a landing folder
 * selects its upload source), the model graph (checked here, at start-up: a cycle or a model
 * reading a table nothing builds stops the app with every problem named) and every warehouse
 * table. Adding a domain is one line here.
 */
import { OPS_TABLES, type TableDef } from '../warehouse/catalog.js';
import { ModelGraph } from '../transform/graph.js';
import type { UploadSource } from '../sources/uploadSource.js';
import { companyActivity } from './company_activity/domain.js';
import type { BronzeSource, Domain } from './domain.js';

export const DOMAINS: readonly Domain[] = [companyActivity];

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
