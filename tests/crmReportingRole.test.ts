/**
 * Power BI's access: the `pipeline_reporting_reader` role `npm run db:setup` creates reads the
 * `reporting` schema and nothing else. The statements are checked by the T-SQL grammar here; on SQL
 * Server (TEST_SQL_*) the role is created twice, a reader added twice, and the reader's rights are
 * checked as that reader.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantReportingReaderSql, READER_NAME_PATTERN, REPORTING_ROLE, reportingRoleSql } from '../functions/warehouse/mssql/appAccess.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { grammarGap, tsqlSyntaxErrors } from './support/tsqlGrammar.js';

describe('the reporting role', () => {
  it('grants SELECT on the reporting schema to one role, and nothing else', () => {
    const sql = reportingRoleSql();
    expect(sql).toContain(`CREATE ROLE ${REPORTING_ROLE} AUTHORIZATION dbo`);
    expect(sql).toContain(`GRANT SELECT ON SCHEMA::reporting TO ${REPORTING_ROLE}`);
    expect(sql.match(/GRANT/g)).toHaveLength(1);
    expect(sql).not.toMatch(/db_datareader|db_datawriter|db_owner|CONTROL|ALTER|INSERT|UPDATE|DELETE|EXECUTE/);
  });

  it('binds the reader\'s name as a parameter and quotes it on the server, never splicing it into the SQL', () => {
    const sql = grantReportingReaderSql();
    expect(sql).toContain('DECLARE @user SYSNAME = @reader');
    expect(sql).toContain("N'CREATE USER ' + QUOTENAME(@user) + N' FROM EXTERNAL PROVIDER'");
    expect(sql).toContain(`N'ALTER ROLE ${REPORTING_ROLE} ADD MEMBER ' + QUOTENAME(@user)`);
    expect(grantReportingReaderSql('WITHOUT LOGIN')).toContain("N' WITHOUT LOGIN'");
  });

  it('is accepted by the T-SQL grammar (the GRANT … ON SCHEMA:: line is beyond it: a documented gap)', () => {
    const gap = grammarGap(reportingRoleSql());
    expect(gap?.docs).toMatch(/grant-schema-permissions/);
    expect(tsqlSyntaxErrors(reportingRoleSql().replace(gap!.pattern, ''))).toEqual([]);
    for (const sql of [grantReportingReaderSql('FROM EXTERNAL PROVIDER'), grantReportingReaderSql('WITHOUT LOGIN')]) expect(tsqlSyntaxErrors(sql), sql).toEqual([]);
  });

  it('takes Entra users, groups and applications by name, and refuses empty, over-long or control-character names', () => {
    for (const ok of ['ana@contoso.com', 'BI Analysts', 'powerbi-gateway', "O'Neil, Team (EMEA)"]) expect(READER_NAME_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ['', 'x'.repeat(129), 'line\nbreak', 'tab\there']) expect(READER_NAME_PATTERN.test(bad), JSON.stringify(bad)).toBe(false);
  });

  describe.each(ENGINES.filter((e) => e.name === 'mssql'))('on $name', (engine) => {
    if (skipUnavailable(engine)) return;
    const reader = 'pipeline_test_report_reader';
    let wh: Warehouse;
    beforeEach(async () => (wh = await engine.open()), engine.hookTimeoutMs);
    afterEach(async () => {
      await wh.exec(`IF USER_ID(N'${reader}') IS NOT NULL DROP USER ${reader}`);
      await wh.close();
    }, engine.hookTimeoutMs);

    it('is created twice without error; its member reads the reporting views and no table', async () => {
      for (let i = 0; i < 2; i++) {
        await wh.exec(reportingRoleSql());
        await wh.exec(grantReportingReaderSql('WITHOUT LOGIN'), { reader });
      }
      const rights = await wh.query<{ view: number; gold: number; silver: number; ops: number; createTable: number }>(
        `EXECUTE AS USER = N'${reader}';
         SELECT HAS_PERMS_BY_NAME('reporting.crm_revenue_by_month', 'OBJECT', 'SELECT') AS [view],
                HAS_PERMS_BY_NAME('gold.mtr_revenue_by_month', 'OBJECT', 'SELECT') AS gold,
                HAS_PERMS_BY_NAME('silver.stg_crm_accounts', 'OBJECT', 'SELECT') AS silver,
                HAS_PERMS_BY_NAME('ops.pipeline_runs', 'OBJECT', 'SELECT') AS ops,
                HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CREATE TABLE') AS createTable;
         REVERT;`,
      );
      expect(rights).toEqual([{ view: 1, gold: 0, silver: 0, ops: 0, createTable: 0 }]);
      // ownership chaining: the view reads gold for its reader, who cannot read gold directly
      const viaView = await wh.query(`EXECUTE AS USER = N'${reader}'; SELECT COUNT(*) AS n FROM reporting.crm_revenue_by_month; REVERT;`);
      expect(viaView).toEqual([{ n: 0 }]);
      await expect(wh.query(`EXECUTE AS USER = N'${reader}'; SELECT COUNT(*) AS n FROM gold.mtr_revenue_by_month; REVERT;`)).rejects.toThrow(/permission was denied/i);
      await wh.exec('REVERT').catch(() => undefined);
    });
  });
});
