/**
 * The reporting views are a contract with Power BI and the report: each has exactly its declared
 * columns, in order, with their declared types, on every engine (read from the engine's own
 * information_schema), and every view is created by the bootstrap.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import type { LogicalType } from '../functions/warehouse/catalog.js';
import type { EngineName, Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';

/** How the engine's information_schema names a logical type (text length checked separately). */
function engineType(engine: EngineName, t: LogicalType): string {
  switch (t.kind) {
    case 'string':
      return engine === 'mssql' ? 'nvarchar' : 'VARCHAR';
    case 'int':
      return engine === 'mssql' ? 'int' : 'INTEGER';
    case 'bigint':
      return engine === 'mssql' ? 'bigint' : 'BIGINT';
    case 'decimal':
      return engine === 'mssql' ? 'decimal' : `DECIMAL(${t.precision},${t.scale})`;
    case 'date':
      return engine === 'mssql' ? 'date' : 'DATE';
    case 'timestamp':
      return engine === 'mssql' ? 'datetime2' : 'TIMESTAMP';
    case 'bool':
      return engine === 'mssql' ? 'bit' : 'BOOLEAN';
  }
}

describe.each(ENGINES)('reporting views on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  beforeEach(async () => (wh = await engine.open()), engine.hookTimeoutMs);
  afterEach(() => wh.close(), engine.hookTimeoutMs);

  it('are all declared in some domain, and there is at least one', () => {
    expect(MODEL_GRAPH.views.length).toBeGreaterThan(0);
  });

  it.each(MODEL_GRAPH.views.map((v) => [v.name, v] as const))('%s has exactly its declared columns and types', async (_name, view) => {
    const [schema, name] = view.name.split('.') as [string, string];
    const actual = await wh.query<{ column_name: string; data_type: string; character_maximum_length: number | null; numeric_precision: number | null; numeric_scale: number | null }>(
      `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
       FROM information_schema.columns WHERE table_schema = @schema AND table_name = @name ORDER BY ordinal_position`,
      { schema, name },
    );
    expect(actual.map((c) => c.column_name)).toEqual(view.columns.map((c) => c.name));
    view.columns.forEach((c, i) => {
      const got = actual[i]!;
      expect(got.data_type, `${view.name}.${c.name}`).toBe(engineType(wh.engine, c.type));
      if (wh.engine === 'mssql' && c.type.kind === 'string') expect(got.character_maximum_length, `${view.name}.${c.name}`).toBe(c.type.length ?? -1);
      if (wh.engine === 'mssql' && c.type.kind === 'decimal') expect([got.numeric_precision, got.numeric_scale], `${view.name}.${c.name}`).toEqual([c.type.precision, c.type.scale]);
    });
  });
});
