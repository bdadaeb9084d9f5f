/**
 * Opens the warehouse the settings choose: DuckDB (embedded file, the local default) or SQL
 * Server / Azure SQL. Each engine is loaded only when chosen: the local path never loads mssql,
 * tedious or the Azure identity stack, and the function app in Azure never loads DuckDB's native
 * library (a slower cold start for nothing).
 */
import type { Settings } from '../core/settings.js';
import { SettingsError } from '../core/settings.js';
import { WAREHOUSE_SCHEMA } from '../domains/registry.js';
import type { Warehouse } from './warehouse.js';

export async function openWarehouse(settings: Settings): Promise<Warehouse> {
  if (settings.WAREHOUSE_ENGINE === 'mssql') {
    const missing = (['SQL_SERVER', 'SQL_DATABASE'] as const).filter((k) => !settings[k]);
    if (missing.length > 0) {
      throw new SettingsError(
        `WAREHOUSE_ENGINE=mssql needs ${missing.join(' and ')} (the Azure SQL server host name, e.g. myserver.database.windows.net, and the database name)`,
      );
    }
    const { MssqlWarehouse } = await import('./mssql/mssqlWarehouse.js');
    return MssqlWarehouse.open(settings, { schema: WAREHOUSE_SCHEMA });
  }
  const { DuckDbWarehouse } = await import('./duckdb/duckdbWarehouse.js');
  return DuckDbWarehouse.open(settings.duckdbPath, { schema: WAREHOUSE_SCHEMA, memoryLimit: settings.DUCKDB_MEMORY_LIMIT, threads: settings.DUCKDB_THREADS });
}
