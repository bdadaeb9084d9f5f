/**
 * Every statement the pipeline sends to Azure SQL is parsed by a real T-SQL grammar
 * (tests/support/tsqlGrammar.ts):
 * - everything `npm run sql:print -- --engine mssql` shows: the bootstrap, every model's
 *   statements and every model's data tests (new models are picked up from the registry);
 * - what the SQL Server engine and `db:setup` send of their own (lock, version marker, grants);
 * - the SQL the ops, ingest, transform and quality code builds at run time, recorded from a tour
 *   of the whole pipeline (that code sends the same text to both engines; model statements are
 *   rendered per engine, so those come from the T-SQL renderer above, not from the recording).
 * A failure names the statement, where it came from, and the line and column.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../functions/core/settings.js';
import { reviewStatements } from '../functions/local/printSql.js';
import { MODEL_GRAPH } from '../functions/domains/registry.js';
import { renderModelSql } from '../functions/transform/models.js';
import { readVersionSql, writeVersionSql } from '../functions/warehouse/ddl.js';
import { grantAppAccessSql, grantReportingReaderSql, reportingRoleSql } from '../functions/warehouse/mssql/appAccess.js';
import { BOOTSTRAP_LOCK_SQL } from '../functions/warehouse/mssql/mssqlWarehouse.js';
import { describeSyntaxError, GRAMMAR_GAPS, grammarGap, tsqlSyntaxErrors } from './support/tsqlGrammar.js';
import { pipelineTour } from './support/pipelineTour.js';
import { recordingWarehouse, type SentStatement } from './support/warehouseWrappers.js';

/** Statement text → where it was seen (the first few places). */
const statements = new Map<string, string[]>();
function add(sql: string, from: string): void {
  const text = sql.trim();
  const seen = statements.get(text) ?? [];
  if (seen.length < 3) seen.push(from);
  statements.set(text, seen);
}

describe('T-SQL grammar', () => {
  beforeAll(async () => {
    const settings = loadSettings({});
    for (const st of reviewStatements('mssql', settings)) add(st.sql, `sql:print ${st.section}: ${st.name}`);
    add(BOOTSTRAP_LOCK_SQL, 'mssql engine: bootstrap lock');
    add(readVersionSql('mssql'), 'mssql engine: read the version marker');
    writeVersionSql().forEach((sql, i) => add(sql, `mssql engine: write the version marker (${i + 1})`));
    add(grantAppAccessSql('FROM EXTERNAL PROVIDER'), 'db:setup: grant the app identity');
    add(grantAppAccessSql('WITHOUT LOGIN'), 'db:setup --without-login: grant a test user');
    add(reportingRoleSql(), 'db:setup: the reporting role');
    add(grantReportingReaderSql('FROM EXTERNAL PROVIDER'), 'db:setup --reporting-reader: a Power BI reader');

    // run time: everything the pipeline sends on a tour, but the DuckDB renderings of the models
    const duckdbModels = new Set(
      MODEL_GRAPH.models.flatMap((m) => (m.kind === 'sql' ? renderModelSql(m, 'duckdb', MODEL_GRAPH.domains.find((d) => d.name === m.domain)!.values(settings).slots) : [])).map((s) => s.trim()),
    );
    const sent: SentStatement[] = [];
    await pipelineTour((wh) => recordingWarehouse(wh, sent));
    let modelStatements = 0;
    for (const s of sent) {
      if (duckdbModels.has(s.sql.trim())) modelStatements++;
      else add(s.sql, `run time${s.inTransaction ? ' (in a transaction)' : ''}`);
    }
    expect(modelStatements).toBeGreaterThan(0); // the tour built the models
  }, 180_000);

  it('accepts every statement sent to Azure SQL', () => {
    const started = performance.now();
    const failures: string[] = [];
    const gapsUsed = new Set<string>();
    let parsed = 0;
    for (const [sql, from] of statements) {
      const gap = grammarGap(sql);
      if (gap) gapsUsed.add(gap.docs);
      if (gap && !gap.parseRest) continue;
      const checked = gap ? sql.replace(gap.pattern, '') : sql;
      parsed++;
      const errors = tsqlSyntaxErrors(checked);
      if (errors.length) failures.push(`${from.join('; ')}\n  ${describeSyntaxError(checked, errors[0]!)}\n  statement:\n${checked.replace(/^/gm, '    | ')}`);
    }
    const ms = performance.now() - started;
    console.log(`T-SQL grammar: ${parsed} unique statements parsed in ${Math.round(ms)} ms; ${statements.size - parsed} known to be beyond the grammar (${[...gapsUsed].join(', ')})`);
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(parsed).toBeGreaterThan(40);
    // an entry no statement needs any more goes
    for (const gap of GRAMMAR_GAPS) expect(gapsUsed.has(gap.docs), `grammar gap no longer used: ${gap.docs}`).toBe(true);
  });

  it('covers the run-time SQL of every layer', () => {
    const all = [...statements.keys()].join('\n');
    // every ops table is written by run-time SQL (ops.loaded_files by a bulk append, then read back)
    for (const written of ['ops.pipeline_runs', 'ops.run_steps', 'ops.file_ingests', 'ops.schema_drift', 'ops.watermarks', 'ops.transform_requests', 'ops.data_test_results', 'ops.leases']) {
      expect(all, written).toContain(`INSERT INTO ${written}`);
    }
    expect(all).toContain('FROM ops.loaded_files');
    expect([...statements.values()].filter((from) => from.some((f) => f.startsWith('run time'))).length).toBeGreaterThan(30);
  });

  describe('is strict where the engines differ (so nobody weakens it)', () => {
    it.each([
      ['a :: cast', 'SELECT x::int AS y FROM t'],
      ['QUALIFY', 'SELECT a FROM t QUALIFY ROW_NUMBER() OVER (ORDER BY a) = 1'],
      ['IS DISTINCT FROM (valid on Azure SQL, newer than the grammar: avoid it)', 'SELECT a FROM t WHERE a IS DISTINCT FROM b'],
      ['a boolean select expression', 'SELECT a > b AS flag FROM t'],
      ['LIMIT', 'SELECT a FROM t ORDER BY a LIMIT 5'],
      ['ILIKE', "SELECT a FROM t WHERE a ILIKE 'x%'"],
      ['a CTE inside a CTE', 'WITH a AS (WITH b AS (SELECT 1 AS x) SELECT x FROM b) SELECT x FROM a'],
    ])('rejects %s', (_what, sql) => {
      expect(tsqlSyntaxErrors(sql)).not.toEqual([]);
    });

    it.each([
      ['CTE then INSERT', 'WITH c AS (SELECT 1 AS a) INSERT INTO t (a) SELECT a FROM c'],
      ['MERGE', 'MERGE INTO t AS tgt USING s AS src ON tgt.k = src.k WHEN MATCHED THEN UPDATE SET v = src.v WHEN NOT MATCHED THEN INSERT (k, v) VALUES (src.k, src.v);'],
      ['windowed PERCENTILE_CONT', 'SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x) OVER (PARTITION BY g) AS p FROM t'],
      ['CREATE OR ALTER FUNCTION … WITH SCHEMABINDING', 'CREATE OR ALTER FUNCTION util.f (@d DATE) RETURNS DATE WITH SCHEMABINDING AS BEGIN RETURN DATEADD(day, 1, @d) END'],
      ['sp_getapplock', BOOTSTRAP_LOCK_SQL],
      ['INSERT … SELECT … WHERE NOT EXISTS', 'INSERT INTO t (a) SELECT @a WHERE NOT EXISTS (SELECT 1 FROM t WHERE a = @a)'],
      ['a column collation', 'CREATE TABLE t (a NVARCHAR(10) COLLATE Latin1_General_100_BIN2 NOT NULL)'],
    ])('accepts %s', (_what, sql) => {
      expect(tsqlSyntaxErrors(sql)).toEqual([]);
    });
  });
});
