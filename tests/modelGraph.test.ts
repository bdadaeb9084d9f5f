/**
 * The model graph: reads derived from the SQL, build order from the reads, problems named at
 * start-up, dbt-style selection, and a failure that stops only its descendants.
 */
import { describe, expect, it } from 'vitest';
import { defineDomain, type Domain } from '../functions/domains/domain.js';
import { MODEL_GRAPH, tableNamed } from '../functions/domains/registry.js';
import { lineage, lineageText } from '../functions/ops/lineage.js';
import { GraphError, ModelGraph, SelectionError } from '../functions/transform/graph.js';
import { codeModel, type ModelSpec } from '../functions/transform/models.js';
import { runTransform } from '../functions/transform/transform.js';
import { OPS_TABLES, int, req } from '../functions/warehouse/catalog.js';
import { createTableSql } from '../functions/warehouse/ddl.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

const names = (models: readonly { name: string }[]) => models.map((m) => m.name);

describe('the registered graph', () => {
  it('derives each model’s reads from its SQL and builds every model after what it reads', () => {
    const parents = (name: string) => MODEL_GRAPH.node(name).parents;
    expect(parents('silver.dim_company')).toEqual(['bronze.crm_company_daily']);
    expect(parents('silver.fact_company_usage_daily')).toEqual(['bronze.product_usage']);
    expect(parents('gold.fact_company_activity_daily')).toEqual(['silver.dim_calendar', 'silver.dim_company', 'silver.fact_company_usage_daily']);
    const order = names(MODEL_GRAPH.models);
    for (const m of MODEL_GRAPH.models) {
      for (const p of parents(m.name)) if (MODEL_GRAPH.node(p).kind === 'model') expect(order.indexOf(p), `${p} before ${m.name}`).toBeLessThan(order.indexOf(m.name));
    }
  });

  it('declares every model’s table once, and every table the models read exists', () => {
    for (const m of MODEL_GRAPH.models) expect(tableNamed(m.name)).toBe(m.table);
  });
});

/** A tiny domain of code models (no SQL files needed): reads are declared. */
function domain(name: string, models: { name: `silver.${string}` | `gold.${string}`; reads: string[]; fail?: boolean }[]): Domain {
  return defineDomain({
    name,
    title: name,
    description: name,
    models: models.map(
      (m): ModelSpec =>
        codeModel({
          name: m.name,
          description: m.name,
          columns: [req('id', int)],
          refresh: 'full',
          reads: m.reads,
          build: async (session, input) => {
            if (m.fail) throw new Error(`${m.name} breaks on purpose`);
            await session.exec(`DELETE FROM ${input.table.schema}.${input.table.name}`);
            await session.exec(`INSERT INTO ${input.table.schema}.${input.table.name} (id) VALUES (1)`);
            return { rowsOut: 1 };
          },
        }),
    ),
  });
}

describe('graph checks', () => {
  it('names a cycle with its path', () => {
    const d = domain('loop', [
      { name: 'silver.a', reads: ['silver.c'] },
      { name: 'silver.b', reads: ['silver.a'] },
      { name: 'silver.c', reads: ['silver.b'] },
    ]);
    expect(() => ModelGraph.build([d])).toThrow(GraphError);
    expect(() => ModelGraph.build([d])).toThrow(/a cycle: silver\.\w → silver\.\w → silver\.\w → silver\.\w \(each reads the one before it\)/);
  });

  it('names a read of a table that nothing builds or loads, and a table declared twice', () => {
    const err = (() => {
      try {
        ModelGraph.build([domain('one', [{ name: 'silver.a', reads: ['silver.nowhere'] }]), domain('two', [{ name: 'silver.a', reads: [] }])]);
      } catch (e) {
        return e as GraphError;
      }
      throw new Error('no error');
    })();
    expect(err.problems).toEqual([
      'silver.a is declared twice: model silver.a (domain one) and model silver.a (domain two)',
      'model silver.a reads silver.nowhere, which no model builds and no source loads',
    ]);
  });
});

describe('selection', () => {
  const g = ModelGraph.build([
    domain('left', [
      { name: 'silver.a', reads: [] },
      { name: 'silver.b', reads: ['silver.a'] },
      { name: 'gold.c', reads: ['silver.b'] },
    ]),
    domain('right', [
      { name: 'silver.x', reads: [] },
      { name: 'gold.y', reads: ['silver.x', 'silver.b'] },
    ]),
  ]);

  it.each([
    ['left', ['silver.a', 'silver.b', 'gold.c']],
    ['silver.b', ['silver.b']],
    ['+gold.c', ['silver.a', 'silver.b', 'gold.c']],
    ['silver.b+', ['silver.b', 'gold.c', 'gold.y']],
    ['+silver.b+', ['silver.a', 'silver.b', 'gold.c', 'gold.y']],
    ['silver.x, gold.c', ['silver.x', 'gold.c']],
    ['right silver.a', ['silver.a', 'silver.x', 'gold.y']],
  ])('%s selects %j, in build order', (selector, expected) => {
    expect(new Set(names(g.select(selector)))).toEqual(new Set(expected));
    const order = names(g.models);
    const picked = names(g.select(selector));
    expect(picked).toEqual([...picked].sort((p, q) => order.indexOf(p) - order.indexOf(q)));
  });

  it('selects a source’s descendants in the registered graph', () => {
    expect(names(MODEL_GRAPH.select('crm_company_daily+'))).toEqual(['silver.dim_company', 'silver.dim_calendar', 'gold.fact_company_activity_daily']);
    expect(names(MODEL_GRAPH.select('+gold.fact_company_activity_daily'))).toEqual(names(MODEL_GRAPH.models.filter((m) => m.domain === 'company_activity')));
  });

  it('refuses a selector that matches nothing, naming what exists', () => {
    expect(() => g.select('gold.nope')).toThrow(SelectionError);
    expect(() => g.select('gold.nope')).toThrow(/"gold.nope" is not a domain, model or source\. Domains: left, right\. Models: /);
    expect(() => g.select('  ')).toThrow(/empty selector/);
  });

  it('prints the lineage: sources, then models in build order with what they read and what reads them', () => {
    const text = lineageText(lineage(MODEL_GRAPH, '+gold.fact_company_activity_daily'));
    expect(text).toContain('bronze.crm_company_daily  (CSV uploads to landing/crm_company_daily/)\n      → silver.dim_company\n      → silver.dim_calendar');
    expect(text).toContain('gold.fact_company_activity_daily  [sql/company_activity/gold/fact_company_activity_daily.sql; date_range]\n      ← silver.dim_calendar');
  });
});

describe.each(ENGINES)('a failing model on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  const storage = useTestStorage();
  let wh: Warehouse;
  let st: TestStorage;
  useWarehousePerTest(engine, storage, (f) => ({ wh, storage: st } = f));

  it('stops only its descendants; the rest builds, and only its request stays pending', async () => {
    const g = ModelGraph.build([
      domain('left', [
        { name: 'silver.a', reads: [] },
        { name: 'silver.b', reads: ['silver.a'], fail: true },
        { name: 'gold.c', reads: ['silver.b'] },
      ]),
      domain('right', [{ name: 'silver.x', reads: [] }]),
    ]);
    for (const m of g.models) await wh.exec(createTableSql(wh.engine, m.table));
    try {
      const ctx = testContext({ storage: st, warehouse: wh });
      const rebuild = (select: string) => ({ source: 'select', from: '2024-01-01', to: '2024-01-01', reason: 'test', mode: 'rebuild' as const, select });
      await expect(runTransform(ctx, [rebuild('left'), rebuild('right')], 'test', g)).rejects.toThrow(
        /silver\.b failed: silver\.b: silver\.b breaks on purpose\. \(skipped because of it: gold\.c\)/,
      );
      expect(await wh.query(`SELECT id FROM silver.a`)).toEqual([{ id: 1 }]);
      expect(await wh.query(`SELECT id FROM silver.x`)).toEqual([{ id: 1 }]);
      expect(await wh.query(`SELECT id FROM gold.c`)).toEqual([]);
      const steps = await wh.query<{ step_name: string; status: string; error: string | null }>(
        `SELECT step_name, status, error FROM ops.run_steps WHERE step_name NOT LIKE 'tests %' ORDER BY step_seq`,
      );
      expect(steps.map((s) => [s.step_name, s.status])).toEqual([
        ['silver.a', 'succeeded'],
        ['silver.b', 'failed'],
        ['gold.c', 'skipped'],
        ['silver.x', 'succeeded'],
        ['report', 'succeeded'], // what did publish is reported
      ]);
      expect(steps[2]!.error).toBe('skipped: silver.b failed');
      const requests = await wh.query<{ selector: string; status: string }>(`SELECT selector, status FROM ops.transform_requests ORDER BY selector`);
      expect(requests).toEqual([
        { selector: 'left', status: 'pending' },
        { selector: 'right', status: 'done' },
      ]);
      const [run] = await wh.query<{ status: string; error: string }>(`SELECT status, error FROM ops.pipeline_runs WHERE kind = 'transform'`);
      expect(run).toEqual({ status: 'failed', error: expect.stringContaining('silver.b failed') as string });
    } finally {
      for (const m of g.models) await wh.exec(`DROP TABLE ${m.name}`);
      await wh.exec(`DELETE FROM ${OPS_TABLES.transformRequests.schema}.${OPS_TABLES.transformRequests.name}`);
    }
  });
});
