/**
 * The function app identity's access to Azure SQL: what `npm run db:setup` grants, and what the
 * app says when the schema is behind the code. The grants run for real on SQL Server when one is
 * configured (TEST_SQL_*; a plain SQL Server has no Entra, so the user is created WITHOUT LOGIN).
 */
import sql from 'mssql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_TABLES, WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import { string, type TableDef } from '../functions/warehouse/catalog.js';
import { APP_DATABASE_ROLES, explainBootstrapFailure, grantAppAccessSql, IDENTITY_NAME_PATTERN } from '../functions/warehouse/mssql/appAccess.js';
import { bootstrapInTransaction, poolConfig } from '../functions/warehouse/mssql/mssqlWarehouse.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, mssqlTestSettings, skipUnavailable } from './support/engines.js';

describe('app identity access', () => {
  it('binds the identity name as a parameter and quotes it on the server, never splicing it into the SQL', () => {
    const sql = grantAppAccessSql();
    expect(sql).toContain('DECLARE @user SYSNAME = @identity');
    expect(sql).toContain("N'CREATE USER ' + QUOTENAME(@user) + N' FROM EXTERNAL PROVIDER'");
    for (const role of APP_DATABASE_ROLES) expect(sql).toContain(`N'ALTER ROLE ${role} ADD MEMBER ' + QUOTENAME(@user)`);
    expect(sql).not.toMatch(/db_owner|db_ddladmin|CONTROL|ALTER ANY/);
  });

  it('accepts managed identity names and refuses anything else', () => {
    for (const ok of ['id-func-abc123xyz', 'pipeline_app', 'A1b']) expect(IDENTITY_NAME_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', 'ab', '-leading-hyphen', 'x]; DROP USER dbo; --', 'name with space', 'a'.repeat(129)]) expect(IDENTITY_NAME_PATTERN.test(bad)).toBe(false);
  });

  it('explains a permission error at start-up: the schema is behind and db:setup must run', () => {
    const denied = Object.assign(new Error("CREATE TABLE permission denied in database 'pipeline'."), { number: 262 });
    const explained = explainBootstrapFailure(Object.assign(new Error('request failed'), { originalError: denied }));
    expect(explained).toBeInstanceOf(Error);
    expect((explained as Error).message).toMatch(/schema is behind this version of the code.*SQL error 262.*npm run db:setup/);
  });

  it('leaves any other start-up error as it was', () => {
    const deadlock = Object.assign(new Error('deadlock victim'), { number: 1205 });
    expect(explainBootstrapFailure(deadlock)).toBe(deadlock);
    const plain = new Error('ECONNREFUSED');
    expect(explainBootstrapFailure(plain)).toBe(plain);
  });

  describe.each(ENGINES.filter((e) => e.name === 'mssql'))('on $name', (engine) => {
    if (skipUnavailable(engine)) return;
    const user = 'pipeline_test_app_identity';
    let wh: Warehouse;
    beforeEach(async () => (wh = await engine.open()), engine.hookTimeoutMs);
    afterEach(async () => {
      await wh.exec(`IF USER_ID(N'${user}') IS NOT NULL DROP USER ${user}`);
      await wh.close();
    }, engine.hookTimeoutMs);

    it('grants rows, twice without error, and no DDL', async () => {
      await wh.exec(grantAppAccessSql('WITHOUT LOGIN'), { identity: user });
      await wh.exec(grantAppAccessSql('WITHOUT LOGIN'), { identity: user });
      const roles = await wh.query<{ role: string }>(
        `SELECT r.name AS role FROM sys.database_role_members AS m
           JOIN sys.database_principals AS r ON r.principal_id = m.role_principal_id
           JOIN sys.database_principals AS u ON u.principal_id = m.member_principal_id
          WHERE u.name = @user ORDER BY r.name`,
        { user },
      );
      expect(roles.map((r) => r.role)).toEqual([...APP_DATABASE_ROLES].sort());
      // as the app: rows can be written, a table cannot be created
      const asApp = await wh.query<{ canCreate: number; canInsert: number }>(
        `EXECUTE AS USER = N'${user}';
         SELECT HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CREATE TABLE') AS canCreate,
                HAS_PERMS_BY_NAME('ops.pipeline_runs', 'OBJECT', 'INSERT') AS canInsert;
         REVERT;`,
      );
      expect(asApp).toEqual([{ canCreate: 0, canInsert: 1 }]);
    });

    it('opens as the app: skips the bootstrap when the schema is current, says to run db:setup when it is behind', async () => {
      await wh.exec(grantAppAccessSql('WITHOUT LOGIN'), { identity: user });
      // One dedicated connection impersonating the app's user (EXECUTE AS lasts for the session;
      // sent as a batch, not through sp_executesql, whose scope would end it at once).
      const pool = new sql.ConnectionPool({ ...poolConfig(mssqlTestSettings()), pool: { min: 0, max: 1 } });
      await pool.connect();
      const asApp = async <T>(fn: (tx: sql.Transaction) => Promise<T>): Promise<T> => {
        const tx = new sql.Transaction(pool);
        await tx.begin();
        try {
          await new sql.Request(tx).batch(`EXECUTE AS USER = N'${user}'`);
          try {
            return await fn(tx);
          } finally {
            await new sql.Request(tx).batch('REVERT').catch(() => undefined);
          }
        } finally {
          await tx.rollback().catch(() => undefined);
        }
      };
      try {
        // the admin's open (engine.open) recorded this version: the app runs no DDL at all
        expect(await asApp((tx) => bootstrapInTransaction(tx, WAREHOUSE_SCHEMA))).toBe('current');
        // a version with one more table: the app may not create it, and is told what to do
        const newer: TableDef = { schema: 'ops', name: 'test_added_by_a_newer_version', description: 'test', columns: [{ name: 'x', type: string(10), nullable: true }] };
        const failure = await asApp((tx) => bootstrapInTransaction(tx, { ...WAREHOUSE_SCHEMA, tables: [...ALL_TABLES, newer] })).then(
          () => new Error('the bootstrap ran DDL as the app'),
          (err: unknown) => err,
        );
        expect((explainBootstrapFailure(failure) as Error).message).toMatch(/schema is behind this version of the code.*SQL error 262.*npm run db:setup/s);
        expect(await wh.query(`SELECT OBJECT_ID(N'ops.test_added_by_a_newer_version', N'U') AS id`)).toEqual([{ id: null }]);
      } finally {
        await pool.close();
      }
    });
  });
});
