import { sqlErrorNumber } from './sqlErrors.js';

/**
 * What the function app's managed identity may do in Azure SQL, and the T-SQL that grants it.
 *
 * The app only reads and writes rows. Schema changes (the bootstrap: schemas, tables, added
 * columns, clustered indexes) run as the deployer, from `npm run db:setup`, which the azd hooks
 * run after provisioning and before each deploy. At start-up the app finds the bootstrap's
 * version in `ops.schema_version` and runs no DDL; should the schema be behind the code, the
 * bootstrap it then tries stops with `explainBootstrapFailure`'s message instead of a bare
 * "permission denied".
 */

/** Fixed database roles the app identity joins: read and write rows in every schema. */
export const APP_DATABASE_ROLES = ['db_datareader', 'db_datawriter'] as const;

/**
 * Schema grants on top of the roles. None today: the models call no functions (engine differences
 * are macros expanded when the SQL is rendered, `warehouse/macros.ts`).
 */
export const APP_SCHEMA_GRANTS: readonly { schema: string; permissions: readonly string[] }[] = [];

/**
 * A user-assigned managed identity's name as Azure allows it (3–128 letters, digits, hyphens and
 * underscores, starting with a letter or digit). The name is bound as a parameter and quoted with
 * QUOTENAME anyway; this rejects a wrong value early, with a clear message.
 */
export const IDENTITY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;

/**
 * How the user is created. In Azure SQL the identity is an Entra principal found by its display
 * name (`FROM EXTERNAL PROVIDER`); a plain SQL Server (the test rig) has no Entra, so tests create
 * a user `WITHOUT LOGIN` and check the grants on it.
 */
export type CreateUserClause = 'FROM EXTERNAL PROVIDER' | 'WITHOUT LOGIN';

/**
 * One idempotent T-SQL batch taking `@identity`: creates the database user if it does not exist,
 * adds it to the roles and grants the schema permissions. Re-running changes nothing.
 */
export function grantAppAccessSql(createUser: CreateUserClause = 'FROM EXTERNAL PROVIDER'): string {
  const statements = [
    ...APP_DATABASE_ROLES.map((role) => `N'ALTER ROLE ${role} ADD MEMBER ' + QUOTENAME(@user)`),
    ...APP_SCHEMA_GRANTS.map((g) => `N'GRANT ${g.permissions.join(', ')} ON SCHEMA::${g.schema} TO ' + QUOTENAME(@user)`),
  ];
  return [
    'DECLARE @user SYSNAME = @identity, @sql NVARCHAR(MAX);',
    'IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @user)',
    'BEGIN',
    `    SET @sql = N'CREATE USER ' + QUOTENAME(@user) + N' ${createUser}';`,
    '    EXEC sys.sp_executesql @sql;',
    'END',
    ...statements.flatMap((s) => [`SET @sql = ${s};`, 'EXEC sys.sp_executesql @sql;']),
  ].join('\n');
}

/** SQL Server's "permission denied" family: CREATE/ALTER denied (262), object (229, 230), schema (15151, 15247), ALTER ROLE (15150). */
const PERMISSION_DENIED = new Set([229, 230, 262, 15150, 15151, 15247]);

/**
 * The start-up bootstrap failed: when it is for want of a DDL right, say what that means and what
 * to run; anything else is returned as it was.
 */
export function explainBootstrapFailure(err: unknown): unknown {
  const number = sqlErrorNumber(err);
  if (number === undefined || !PERMISSION_DENIED.has(number)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new Error(
    `The warehouse schema is behind this version of the code, and the app's identity may only read and write rows (SQL error ${number}: ${detail}). ` +
      'Run `npm run db:setup` as the SQL admin (azd runs it before each deploy; docs/deploy.md), then retry.',
    { cause: err },
  );
}

// ---- Power BI: the reporting role -----------------------------------------------------------------

/**
 * The database role Power BI's readers join (people, Entra groups, a gateway's or a service
 * principal's identity): SELECT on the `reporting` schema and nothing else. The views read gold and
 * silver tables owned by the same owner (dbo), so ownership chaining lets a member read a view
 * without any right on the tables behind it.
 */
export const REPORTING_ROLE = 'pipeline_reporting_reader';

/** Creates the reporting role when it is missing and grants it SELECT on `reporting`; re-running changes nothing. */
export function reportingRoleSql(): string {
  return [
    `IF DATABASE_PRINCIPAL_ID(N'${REPORTING_ROLE}') IS NULL`,
    `    CREATE ROLE ${REPORTING_ROLE} AUTHORIZATION dbo;`,
    `GRANT SELECT ON SCHEMA::reporting TO ${REPORTING_ROLE};`,
  ].join('\n');
}

/**
 * An Entra principal's name as `CREATE USER … FROM EXTERNAL PROVIDER` takes it: a user's UPN
 * (`ana@contoso.com`), a group's or an application's display name (`BI Analysts`). Bound as a
 * parameter and quoted with QUOTENAME anyway; this refuses an empty, over-long or control-character
 * value early, with a clear message.
 */
export const READER_NAME_PATTERN = /^[^\p{Cc}]{1,128}$/u;

/** One idempotent batch taking `@reader`: creates its database user if missing and adds it to the reporting role. */
export function grantReportingReaderSql(createUser: CreateUserClause = 'FROM EXTERNAL PROVIDER'): string {
  return [
    'DECLARE @user SYSNAME = @reader, @sql NVARCHAR(MAX);',
    'IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @user)',
    'BEGIN',
    `    SET @sql = N'CREATE USER ' + QUOTENAME(@user) + N' ${createUser}';`,
    '    EXEC sys.sp_executesql @sql;',
    'END',
    `SET @sql = N'ALTER ROLE ${REPORTING_ROLE} ADD MEMBER ' + QUOTENAME(@user);`,
    'EXEC sys.sp_executesql @sql;',
  ].join('\n');
}
