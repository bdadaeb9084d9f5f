/**
 * The lineage of the pipeline as the model graph has it: per domain, its sources (bronze tables),
 * models in build order and reporting views, with what each reads and what reads it. `npm run ops -- lineage
 * [--select …]` prints it as text; `GET /api/ops/lineage` answers the same as JSON.
 */
import type { ModelGraph } from '../transform/graph.js';

export interface LineageBody {
  selector: string | null;
  domains: {
    name: string;
    title: string;
    sources: { name: string; table: string; arrives: string; readBy: string[] }[];
    models: { name: string; kind: 'sql' | 'code'; file: string | null; refresh: string; reads: string[]; readBy: string[] }[];
    views: { name: string; file: string; exposure: string; reads: string[] }[];
  }[];
}

/** The graph, or the part a selector picks (its models and views, and the sources they read). */
export function lineage(graph: ModelGraph, selector?: string): LineageBody {
  const picked = selector ? graph.selectNodes(selector) : undefined;
  const models = new Set(graph.models.filter((m) => !picked || picked.has(m.name)).map((m) => m.name));
  const views = graph.views.filter((v) => !picked || picked.has(v.name));
  const domains = graph.domains.map((d) => {
    const shownModels = graph.models.filter((m) => m.domain === d.name && models.has(m.name));
    const readSources = new Set(shownModels.flatMap((m) => graph.node(m.name).parents));
    return {
      name: d.name,
      title: d.title,
      sources: d.bronzeSources
        .map((s) => `${s.table.schema}.${s.table.name}`)
        .filter((table) => !selector || readSources.has(table))
        .map((table) => {
          const node = graph.node(table);
          if (node.kind !== 'source') throw new Error(`${table} is not a source`);
          return { name: node.source.name, table, arrives: node.source.arrives, readBy: node.children };
        }),
      models: shownModels.map((m) => {
        const node = graph.node(m.name);
        return { name: m.name, kind: m.kind, file: m.kind === 'sql' ? `sql/${m.file}` : null, refresh: m.refresh, reads: node.parents, readBy: node.children };
      }),
      views: views.filter((v) => v.domain === d.name).map((v) => ({ name: v.name, file: `sql/${v.file}`, exposure: v.exposure, reads: graph.node(v.name).parents })),
    };
  });
  return { selector: selector ?? null, domains: domains.filter((d) => d.models.length > 0 || d.sources.length > 0 || d.views.length > 0) };
}

/** The lineage as an indented text, sources first, then models in build order. */
export function lineageText(body: LineageBody): string {
  const lines: string[] = [];
  for (const d of body.domains) {
    lines.push(`${d.name} — ${d.title}`);
    if (d.sources.length) lines.push('  sources');
    for (const s of d.sources) lines.push(`    ${s.table}  (${s.arrives})`, ...s.readBy.map((c) => `      → ${c}`));
    if (d.models.length) lines.push('  models, in build order');
    for (const m of d.models) {
      lines.push(`    ${m.name}  [${m.kind === 'sql' ? m.file : 'code model'}; ${m.refresh}]`);
      for (const p of m.reads) lines.push(`      ← ${p}`);
      for (const c of m.readBy) lines.push(`      → ${c}`);
    }
    if (d.views.length) lines.push('  reporting views');
    for (const v of d.views) lines.push(`    ${v.name}  [${v.file}; read by ${v.exposure}]`, ...v.reads.map((p) => `      ← ${p}`));
    lines.push('');
  }
  return lines.join('\n');
}
