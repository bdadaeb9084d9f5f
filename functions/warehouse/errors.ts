/** Engine errors the code above the Warehouse interface reacts to, recognised on either engine. */
import { sqlErrorNumber } from './mssql/sqlErrors.js';

/** SQL Server: a duplicate key in a unique index (2601) or a primary key / unique constraint (2627). */
const MSSQL_DUPLICATE_KEY = new Set([2601, 2627]);

/**
 * True when a statement failed because its row's key already exists: SQL Server 2601 / 2627, or
 * DuckDB's constraint error "Duplicate key …" (ops tables; DuckDB data tables carry no key).
 */
export function isDuplicateKeyError(err: unknown): boolean {
  const n = sqlErrorNumber(err);
  if (n !== undefined) return MSSQL_DUPLICATE_KEY.has(n);
  const message = err instanceof Error ? err.message : '';
  return /^Constraint Error: .*Duplicate key/is.test(message);
}
