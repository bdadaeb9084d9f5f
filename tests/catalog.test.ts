/**
 * The table catalogue against SQL Server's limits and the project's physical design rules, for
 * every table — today's and any added later — from the DDL each engine is given.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_TABLES, BRONZE_SOURCES, WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import { MAX_LANDING_PATH_CHARS, string, type TableDef } from '../functions/warehouse/catalog.js';
import {
  bootstrapBatches,
  bootstrapVersion,
  createTableSql,
  indexKeyBytes,
  KEY_BYTE_LIMITS,
  physicalDesign,
  tableIndexes,
  TEXT_COLLATION,
} from '../functions/warehouse/ddl.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import type { EngineName } from '../functions/warehouse/warehouse.js';

const ENGINE_NAMES: EngineName[] = ['mssql', 'duckdb'];
const name = (t: TableDef) => `${t.schema}.${t.name}`;

/** Every index of every table whose key is over the engine's limit, as `table index: bytes > limit`. */
function oversizedKeys(engine: EngineName, tables: readonly TableDef[]): string[] {
  const over: string[] = [];
  for (const t of tables) {
    for (const index of tableIndexes(engine, t)) {
      const limit = KEY_BYTE_LIMITS[engine][index.kind];
      const bytes = indexKeyBytes(engine, t, index);
      if (limit !== undefined && bytes > limit) over.push(`${name(t)} ${index.name} (${index.columns.join(', ')}): ${bytes} bytes > ${limit}`);
    }
  }
  return over;
}

describe('keys and indexes', () => {
  it.each(ENGINE_NAMES)('fit the limits of %s (clustered 900 bytes, nonclustered 1700 on SQL Server)', (engine) => {
    expect(oversizedKeys(engine, ALL_TABLES)).toEqual([]);
  });

  it('are measured as SQL Server stores them (NVARCHAR: 2 bytes a character)', () => {
    const wide: TableDef = { schema: 'ops', name: 'wide', description: '', key: ['a', 'b'], columns: [{ name: 'a', type: string(400), nullable: false }, { name: 'b', type: string(51), nullable: false }] };
    expect(oversizedKeys('mssql', [wide])).toEqual(['ops.wide pk_ops_wide (a, b): 902 bytes > 900']);
    expect(oversizedKeys('mssql', [{ ...wide, columns: [wide.columns[0]!, { name: 'b', type: string(50), nullable: false }] }])).toEqual([]);
  });

  it('on SQL Server: a bronze table\'s date index is its source\'s business date, and includes its key', () => {
    const bronze = ALL_TABLES.filter((t) => t.schema === 'bronze');
    expect(bronze.length).toBe(BRONZE_SOURCES.length);
    for (const s of BRONZE_SOURCES) {
      const source = s.table.source;
      expect(source?.businessDate, s.name).toBe(s.dateColumn);
      const [ix] = tableIndexes('mssql', s.table).filter((i) => i.kind === 'nonclustered' && !i.primaryKey);
      for (const c of [...ix!.columns, ...(ix!.include ?? [])]) expect(s.table.columns.some((col) => col.name === c), `${s.name}.${c}`).toBe(true);
      expect(new Set([...ix!.columns, ...(ix!.include ?? [])]), s.name).toEqual(new Set([s.dateColumn, ...source!.key]));
    }
    const sql = bootstrapBatches('mssql', WAREHOUSE_SCHEMA).find((b) => b.includes('CREATE NONCLUSTERED INDEX ix_bronze_crm_order_lines_updated_at'));
    expect(sql).toBe(
      "IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'bronze.crm_order_lines') AND name = N'ix_bronze_crm_order_lines_updated_at')\n" +
        'CREATE NONCLUSTERED INDEX ix_bronze_crm_order_lines_updated_at ON bronze.crm_order_lines (updated_at) INCLUDE (order_id, line_number)',
    );
    expect(bootstrapBatches('duckdb', WAREHOUSE_SCHEMA).some((b) => /\bINDEX\b/i.test(b))).toBe(false); // DuckDB: unchanged, no index
  });

  it('on DuckDB: only the ops tables have one (its index slows bulk loads and range deletes)', () => {
    for (const t of ALL_TABLES) expect(tableIndexes('duckdb', t).length > 0, name(t)).toBe(t.schema === 'ops' && Boolean(t.key));
  });

  it('on SQL Server: follow from each table\'s layer', () => {
    for (const t of ALL_TABLES) {
      const indexes = tableIndexes('mssql', t).map((i) => `${i.kind}${i.primaryKey ? ' pk' : ''}(${i.columns.join(', ')})${i.include ? ` include(${i.include.join(', ')})` : ''}`);
      if (t.schema === 'bronze') {
        // clustered on the unit of reload; the business date indexed for the models' range reads, the key included
        const source = BRONZE_SOURCES.find((s) => s.table === t)!;
        const key = t.source!.key.filter((c) => c !== source.dateColumn);
        expect(indexes, name(t)).toEqual(['clustered(_bronze_file)', `nonclustered(${source.dateColumn})${key.length ? ` include(${key.join(', ')})` : ''}`]);
      }
      else if (physicalDesign(t) === 'columnstore') expect(indexes, name(t)).toEqual(['columnstore()', `nonclustered pk(${t.key!.join(', ')})`]);
      else expect(indexes, name(t)).toEqual([`clustered pk(${t.key!.join(', ')})`]);
    }
    expect(physicalDesign(ALL_TABLES.find((t) => name(t) === 'gold.fact_company_activity_daily')!)).toBe('columnstore');
    // a model declares it when its name does not say fact_
    expect(physicalDesign(ALL_TABLES.find((t) => name(t) === 'gold.fct_transactions')!)).toBe('columnstore');
  });
});

describe('columns', () => {
  it('a hash column names a text column of its table', () => {
    for (const t of ALL_TABLES) {
      for (const c of t.columns.filter((col) => col.hashOf)) {
        const source = t.columns.find((col) => col.name === c.hashOf);
        expect(source?.type.kind, `${name(t)}.${c.name}`).toBe('string');
        expect(c.name).toBe(`${c.hashOf}_hash`);
      }
    }
  });

  it('every column that holds a landing path takes one of Azure\'s longest blob name', () => {
    const pathColumns = ALL_TABLES.flatMap((t) => t.columns.filter((c) => ['_source_file', 'landing_file', 'source_file'].includes(c.name)).map((c) => ({ t, c })));
    expect(pathColumns.length).toBeGreaterThan(4);
    for (const { t, c } of pathColumns) expect(c.type.kind === 'string' && c.type.length, `${name(t)}.${c.name}`).toBeGreaterThanOrEqual(MAX_LANDING_PATH_CHARS);
  });

  it('every text column states the binary collation on SQL Server, and its length check on DuckDB', () => {
    for (const t of ALL_TABLES) {
      const mssql = createTableSql('mssql', t);
      const duckdb = createTableSql('duckdb', t);
      for (const c of t.columns.filter((col) => col.type.kind === 'string')) {
        expect(mssql, `${name(t)}.${c.name}`).toMatch(new RegExp(`\\n    ${c.name} NVARCHAR\\((\\d+|MAX)\\) COLLATE ${TEXT_COLLATION}[ ,\\n]`));
        if (c.type.kind === 'string' && c.type.length) expect(duckdb, `${name(t)}.${c.name}`).toContain(`CHECK (CASE WHEN strlen(${c.name}) <= ${c.type.length} THEN true ELSE `);
      }
    }
  });
});

describe('the bootstrap version marker', () => {
  it('changes with the DDL text, per engine', () => {
    expect(bootstrapVersion('mssql', WAREHOUSE_SCHEMA)).toMatch(/^[0-9a-f]{64}$/);
    expect(bootstrapVersion('mssql', WAREHOUSE_SCHEMA)).not.toBe(bootstrapVersion('duckdb', WAREHOUSE_SCHEMA));
    expect(bootstrapVersion('mssql', { ...WAREHOUSE_SCHEMA, tables: ALL_TABLES.slice(1) })).not.toBe(bootstrapVersion('mssql', WAREHOUSE_SCHEMA));
    expect(bootstrapVersion('mssql', { ...WAREHOUSE_SCHEMA, views: () => [] })).not.toBe(bootstrapVersion('mssql', WAREHOUSE_SCHEMA));
    expect(bootstrapBatches('mssql', WAREHOUSE_SCHEMA).some((b) => b.includes('ops.schema_version'))).toBe(true);
  });

  it('DuckDB: an open that finds its version runs no DDL; another version runs it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-test-'));
    const file = path.join(dir, 'warehouse.duckdb');
    try {
      const first = await DuckDbWarehouse.open(file, { schema: WAREHOUSE_SCHEMA });
      expect(await first.query(`SELECT ddl_sha256 FROM ops.schema_version WHERE component = 'bootstrap'`)).toEqual([{ ddl_sha256: bootstrapVersion('duckdb', WAREHOUSE_SCHEMA) }]);
      await first.exec(`DROP TABLE ops.leases`); // a change the marker does not see
      await first.close();
      const second = await DuckDbWarehouse.open(file, { schema: WAREHOUSE_SCHEMA }); // current: nothing ran, the table stays missing
      await expect(second.query(`SELECT COUNT(*) AS n FROM ops.leases`)).rejects.toThrow(/leases/);
      await second.exec(`UPDATE ops.schema_version SET ddl_sha256 = 'older'`);
      await second.close();
      const third = await DuckDbWarehouse.open(file, { schema: WAREHOUSE_SCHEMA }); // behind: the bootstrap runs and records the version
      expect(await third.query(`SELECT COUNT(*) AS n FROM ops.leases`)).toEqual([{ n: 0 }]);
      expect(await third.query(`SELECT ddl_sha256 FROM ops.schema_version`)).toEqual([{ ddl_sha256: bootstrapVersion('duckdb', WAREHOUSE_SCHEMA) }]);
      await third.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
