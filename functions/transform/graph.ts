/**
 * The model graph: sources (bronze tables) and models as nodes, "reads" as edges. A SQL model's
 * reads are derived from its SQL (every `bronze.x` / `silver.x` / `gold.x` it names); a code model
 * declares them. Build order is a topological order of this graph, never a list kept by hand.
 *
 * Reporting views are nodes too (what they read is derived the same way): they come last, read by
 * nobody inside the pipeline, and the bootstrap creates them in this order.
 *
 * Built (and checked) when the app starts: a cycle, a model reading a table that nothing builds
 * or loads, or two declarations of one table stop it with every problem named.
 *
 * Selection works like dbt's: `company_activity` (a domain), `gold.fact_company_activity_daily`
 * (a model), `+gold.x` (with its ancestors), `silver.x+` (with its descendants), `crm_company_daily+`
 * (a source's descendants); several selectors separated by spaces or commas are a union.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BronzeSource, Domain, ViewDef } from '../domains/domain.js';
import { SQL_DIR } from '../warehouse/ddl.js';
import { tableReferences } from '../warehouse/sqlText.js';
import type { ModelDef } from './models.js';

export type GraphNode =
  | { kind: 'source'; name: string; domain: string; source: BronzeSource; parents: string[]; children: string[] }
  | { kind: 'model'; name: string; domain: string; model: ModelDef; parents: string[]; children: string[] }
  | { kind: 'view'; name: string; domain: string; view: ViewDef; parents: string[]; children: string[] };

export class GraphError extends Error {
  constructor(readonly problems: string[]) {
    super(`the model graph is not valid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'GraphError';
  }
}

export class SelectionError extends Error {}

/** The tables a model or view reads: derived from its SQL (both engine variants, when it has them), or declared. */
export function modelReads(model: ModelDef | ViewDef): string[] {
  if ('kind' in model && model.kind === 'code') return [...new Set(model.reads)].sort();
  const base = path.join(SQL_DIR, model.file);
  const texts = [base, base.replace(/\.sql$/, '.duckdb.sql'), base.replace(/\.sql$/, '.mssql.sql')].flatMap((f) => {
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      return [];
    }
  });
  if (texts.length === 0) throw new GraphError([`model ${model.name}: its SQL file sql/${model.file} does not exist`]);
  // The pipeline's own tables are no nodes: always there, and written by the load in step with
  // bronze (ops.loaded_files says which bronze files hold which dates, so a model can read just those).
  return [...new Set(texts.flatMap(tableReferences))].filter((t) => t !== model.name && !t.startsWith('ops.')).sort();
}

export class ModelGraph {
  /** Every node by name: sources by bronze table (`bronze.crm_company_daily`), models by table. */
  readonly nodes: ReadonlyMap<string, GraphNode>;
  /** The models in build order: every model after all the models it reads. */
  readonly models: readonly ModelDef[];
  /** The reporting views, each after what it reads (the order the bootstrap creates them in). */
  readonly views: readonly ViewDef[];
  readonly domains: readonly Domain[];

  private constructor(nodes: Map<string, GraphNode>, order: GraphNode[], domains: readonly Domain[]) {
    this.nodes = nodes;
    this.models = order.flatMap((n) => (n.kind === 'model' ? [n.model] : []));
    this.views = order.flatMap((n) => (n.kind === 'view' ? [n.view] : []));
    this.domains = domains;
  }

  static build(domains: readonly Domain[]): ModelGraph {
    const problems: string[] = [];
    const nodes = new Map<string, GraphNode>();
    const declaredIn = new Map<string, string>();
    const add = (node: GraphNode, where: string) => {
      const before = declaredIn.get(node.name);
      if (before) problems.push(`${node.name} is declared twice: ${before} and ${where}`);
      else {
        nodes.set(node.name, node);
        declaredIn.set(node.name, where);
      }
    };
    const domainNames = new Set<string>();
    for (const d of domains) {
      if (domainNames.has(d.name)) problems.push(`domain ${d.name} is registered twice`);
      domainNames.add(d.name);
      for (const s of d.bronzeSources) {
        add({ kind: 'source', name: `${s.table.schema}.${s.table.name}`, domain: d.name, source: s, parents: [], children: [] }, `source ${s.name} (domain ${d.name})`);
      }
      for (const m of d.models) add({ kind: 'model', name: m.name, domain: d.name, model: m, parents: [], children: [] }, `model ${m.name} (domain ${d.name})`);
      for (const v of d.views) add({ kind: 'view', name: v.name, domain: d.name, view: v, parents: [], children: [] }, `view ${v.name} (domain ${d.name})`);
    }
    for (const node of nodes.values()) {
      if (node.kind === 'source') continue;
      const def = node.kind === 'model' ? node.model : node.view;
      let reads: string[] = [];
      try {
        reads = modelReads(def);
      } catch (err) {
        problems.push(...(err instanceof GraphError ? err.problems : [String(err)]));
      }
      for (const table of reads) {
        const parent = nodes.get(table);
        if (!parent) {
          const where = 'kind' in def && def.kind === 'code' ? '' : ` (sql/${def.file})`;
          problems.push(`${node.kind} ${node.name}${where} reads ${table}, which no model builds and no source loads`);
          continue;
        }
        if (node.kind === 'model' && parent.kind === 'view') {
          problems.push(`model ${node.name} reads the view ${table}: models read tables; views are for readers outside the pipeline`);
          continue;
        }
        node.parents.push(table);
        parent.children.push(node.name);
      }
    }
    const order = problems.length === 0 ? topologicalOrder(nodes, problems) : [];
    if (problems.length > 0) throw new GraphError(problems);
    return new ModelGraph(nodes, order, domains);
  }

  node(name: string): GraphNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no model or source named ${name}`);
    return n;
  }

  /** Every node the named one reads, directly or not. */
  ancestors(name: string): Set<string> {
    return this.walk(name, (n) => n.parents);
  }

  /** Every node that reads the named one, directly or not. */
  descendants(name: string): Set<string> {
    return this.walk(name, (n) => n.children);
  }

  private walk(start: string, next: (n: GraphNode) => string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...next(this.node(start))];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      stack.push(...next(this.node(name)));
    }
    return seen;
  }

  /** Every source of every domain. */
  get bronzeSources(): BronzeSource[] {
    return this.domains.flatMap((d) => d.bronzeSources);
  }

  /** The bronze table node of a source name (`crm_company_daily` → `bronze.crm_company_daily`). */
  sourceNode(sourceName: string): string | undefined {
    for (const n of this.nodes.values()) if (n.kind === 'source' && n.source.name === sourceName) return n.name;
    return undefined;
  }

  /**
   * The models a selector picks, in build order. Throws SelectionError naming what exists when a
   * term matches nothing.
   */
  select(selector: string): ModelDef[] {
    const picked = this.selectNodes(selector);
    return this.models.filter((model) => picked.has(model.name));
  }

  /** Every node a selector picks: models, sources and views. */
  selectNodes(selector: string): Set<string> {
    const terms = selector.split(/[\s,]+/).filter((t) => t.length > 0);
    if (terms.length === 0) throw new SelectionError('an empty selector: name a domain, a model or a source');
    const picked = new Set<string>();
    for (const term of terms) {
      const m = /^(\+?)([^+]+)(\+?)$/.exec(term);
      if (!m) throw new SelectionError(`cannot read the selector "${term}": use name, +name, name+ or +name+`);
      const [, up, core, down] = m as unknown as [string, string, string, string];
      for (const start of this.resolve(core)) {
        picked.add(start);
        if (up) for (const a of this.ancestors(start)) picked.add(a);
        if (down) for (const d of this.descendants(start)) picked.add(d);
      }
    }
    return picked;
  }

  /** The node names a selector's core names: a domain's models, a model, or a source. */
  private resolve(core: string): string[] {
    const name = core.toLowerCase();
    const domain = this.domains.find((d) => d.name === name);
    if (domain) return [...domain.models.map((m) => m.name), ...domain.views.map((v) => v.name)];
    if (this.nodes.has(name)) return [name];
    const source = this.sourceNode(name);
    if (source) return [source];
    const models = this.models.map((m) => m.name);
    const sources = [...this.nodes.values()].filter((n) => n.kind === 'source').map((n) => (n.kind === 'source' ? n.source.name : n.name));
    throw new SelectionError(
      `"${core}" is not a domain, model or source. Domains: ${this.domains.map((d) => d.name).join(', ')}. Models: ${models.join(', ')}. Sources: ${sources.join(', ')}.`,
    );
  }
}

/** Kahn's algorithm; ties keep declaration order, so the order is stable. A cycle is a problem. */
function topologicalOrder(nodes: Map<string, GraphNode>, problems: string[]): GraphNode[] {
  const declared = [...nodes.values()];
  const waiting = new Map(declared.map((n) => [n.name, n.parents.length]));
  const ready = declared.filter((n) => n.parents.length === 0).map((n) => n.name);
  const order: GraphNode[] = [];
  const done = new Set<string>();
  while (ready.length > 0) {
    const name = ready.shift()!;
    done.add(name);
    const node = nodes.get(name)!;
    order.push(node);
    for (const child of node.children) {
      const left = waiting.get(child)! - 1;
      waiting.set(child, left);
      if (left === 0) ready.push(child);
    }
    ready.sort((a, b) => declared.indexOf(nodes.get(a)!) - declared.indexOf(nodes.get(b)!));
  }
  const stuck = declared.filter((n) => !done.has(n.name));
  if (stuck.length > 0) problems.push(`a cycle: ${describeCycle(nodes, stuck.map((n) => n.name))}`);
  return order;
}

function describeCycle(nodes: Map<string, GraphNode>, stuck: string[]): string {
  // follow parents inside the stuck set until a node repeats
  const inStuck = new Set(stuck);
  const path: string[] = [];
  let at = stuck[0]!;
  while (!path.includes(at)) {
    path.push(at);
    at = nodes.get(at)!.parents.find((p) => inStuck.has(p)) ?? at;
  }
  const cycle = [...path.slice(path.indexOf(at)), at].reverse();
  return `${cycle.join(' → ')} (each reads the one before it)`;
}
