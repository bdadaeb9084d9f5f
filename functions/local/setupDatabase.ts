/**
 * `npm run db:setup -- --server <host> --database <name> --identity <managed identity name> [--reporting-reader <Entra name> …]`
 *
 * Run as the Azure SQL Entra admin (your `az login` / `azd auth login`; the deployer is the admin
 * the templates set). It:
 *   1. bootstraps the warehouse: schemas, tables, columns added since;
 *   2. creates the database user for the function app's managed identity (FROM EXTERNAL PROVIDER)
 *      and grants it the least the pipeline needs (functions/warehouse/mssql/appAccess.ts);
 *   3. creates the role Power BI reads with, `pipeline_reporting_reader` (SELECT on `reporting` only),
 *      and adds each `--reporting-reader` (a person's UPN, an Entra group, a service principal) to it.
 * Every step is idempotent. The azd hooks run this after `azd provision` and before each
 * `azd deploy` (infra/scripts/setup-database.sh, which also opens the firewall to this machine
 * for the duration); while the new rule is not yet in effect (error 40615) it waits and retries,
 * for up to six minutes. Exit code: 0 done, 2 bad arguments, 1 failure.
 */
import { parseArgs } from 'node:util';
import { consoleLog } from '../core/log.js';
import { loadSettings } from '../core/settings.js';
import { ALL_TABLES, WAREHOUSE_SCHEMA } from '../domains/registry.js';
import { SCHEMAS } from '../warehouse/ddl.js';
import {
  APP_DATABASE_ROLES,
  APP_SCHEMA_GRANTS,
  grantAppAccessSql,
  grantReportingReaderSql,
  IDENTITY_NAME_PATTERN,
  READER_NAME_PATTERN,
  REPORTING_ROLE,
  reportingRoleSql,
  type CreateUserClause,
} from '../warehouse/mssql/appAccess.js';
import { MssqlWarehouse } from '../warehouse/mssql/mssqlWarehouse.js';
import { parseCommandLine } from './cli.js';
import { connectThroughNewFirewallRule } from './firewallWait.js';

const USAGE = 'usage: npm run db:setup -- --server <name>.database.windows.net --database <name> --identity <managed identity name> [--reporting-reader <Entra user, group or app> …]';

class UsageError extends Error {}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      database: { type: 'string' },
      identity: { type: 'string' },
      // Entra principals Power BI reads as: added to the reporting role (repeatable)
      'reporting-reader': { type: 'string', multiple: true, default: [] },
      // a SQL Server without Entra (the test rig): create the user WITHOUT LOGIN
      'without-login': { type: 'boolean', default: false },
    },
  });
  const missing = (['server', 'database', 'identity'] as const).filter((k) => !values[k]);
  if (missing.length) throw new UsageError(`missing --${missing.join(', --')}`);
  const identity = values.identity!;
  if (!IDENTITY_NAME_PATTERN.test(identity)) {
    throw new UsageError(`--identity "${identity}" is not a managed identity name (3-128 letters, digits, hyphens, underscores)`);
  }
  const readers = values['reporting-reader'] ?? [];
  const badReader = readers.find((r) => !READER_NAME_PATTERN.test(r));
  if (badReader !== undefined) throw new UsageError(`--reporting-reader "${badReader}" is not an Entra user, group or application name (1-128 characters, no control characters)`);
  const createUser: CreateUserClause = values['without-login'] ? 'WITHOUT LOGIN' : 'FROM EXTERNAL PROVIDER';
  return { server: values.server!, database: values.database!, identity, readers, createUser };
}

async function main(): Promise<number> {
  const args = parseCommandLine(parse, USAGE);
  if (!args) return 2;
  const log = consoleLog('[db:setup] ');
  // The caller's own settings (SQL_AUTH, SQL_PORT, … for a test rig) apply; the target comes from the flags.
  const settings = loadSettings({ ...process.env, WAREHOUSE_ENGINE: 'mssql', SQL_SERVER: args.server, SQL_DATABASE: args.database });
  log.info('connecting (a paused serverless database takes up to a minute to resume)', { server: args.server, database: args.database });
  // the hook has just opened the firewall to this machine: wait for the rule to take effect;
  // forced: the DDL runs even when the stored version matches, so a schema changed by hand is repaired
  const warehouse = await connectThroughNewFirewallRule(() => MssqlWarehouse.open(settings, { schema: WAREHOUSE_SCHEMA, log, forceBootstrap: true }), { log });
  try {
    log.info('warehouse bootstrapped', { schemas: SCHEMAS.length, tables: ALL_TABLES.length });
    await warehouse.exec(grantAppAccessSql(args.createUser), { identity: args.identity });
    log.info('app identity granted', {
      user: args.identity,
      roles: APP_DATABASE_ROLES,
      grants: APP_SCHEMA_GRANTS.map((g) => `${g.permissions.join(', ')} ON SCHEMA::${g.schema}`),
    });
    await warehouse.exec(reportingRoleSql());
    for (const reader of args.readers) await warehouse.exec(grantReportingReaderSql(args.createUser), { reader });
    log.info('reporting role ready', { role: REPORTING_ROLE, grant: 'SELECT ON SCHEMA::reporting', members: args.readers });
  } finally {
    await warehouse.close();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[db:setup] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
