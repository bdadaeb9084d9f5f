/**
 * Warehouses that wrap another, for tests: one records every statement text the pipeline sends
 * (for the T-SQL grammar check), one replays what SQL Server's retry would replay after a lost
 * acknowledgement (to prove those statements idempotent).
 */
import type { Readable } from 'node:stream';
import { silentLog } from '../../functions/core/log.js';
import type { TableDef } from '../../functions/warehouse/catalog.js';
import { withTransientRetry } from '../../functions/warehouse/mssql/mssqlWarehouse.js';
import type { JsonLinesPart, Row, SqlParams, SqlSession, Warehouse } from '../../functions/warehouse/warehouse.js';

/** A statement as sent: its text and whether it ran inside a transaction. */
export interface SentStatement {
  sql: string;
  inTransaction: boolean;
}

function recordingSession(session: SqlSession, sink: SentStatement[], inTransaction: boolean): SqlSession {
  return {
    exec: (sql: string, params?: SqlParams) => (sink.push({ sql, inTransaction }), session.exec(sql, params)),
    query: <T extends object = Row>(sql: string, params?: SqlParams) => (sink.push({ sql, inTransaction }), session.query<T>(sql, params)),
    loadJsonLines: (table: TableDef, lines: Readable, constants?: Record<string, string>) => session.loadJsonLines(table, lines, constants),
    loadJsonLinesMany: (table: TableDef, parts: JsonLinesPart[]) => session.loadJsonLinesMany(table, parts),
    appendRows: (table: TableDef, rows: unknown[][]) => session.appendRows(table, rows),
  };
}

/** Records the text of every `exec` and `query`, in and outside transactions (bulk loads send no SQL text on SQL Server). */
export function recordingWarehouse(wh: Warehouse, sink: SentStatement[]): Warehouse {
  return {
    ...recordingSession(wh, sink, false),
    engine: wh.engine,
    transaction: <T>(fn: (tx: SqlSession) => Promise<T>) => wh.transaction((tx) => fn(recordingSession(tx, sink, true))),
    close: () => wh.close(),
  };
}

/** What a dropped connection looks like to the retry: the server may have run the statement. */
function lostAcknowledgement(): Error {
  return Object.assign(new Error('Connection lost - read ECONNRESET (simulated after the statement ran)'), { name: 'ConnectionError', code: 'ECONNRESET' });
}

/**
 * Runs every statement SQL Server's engine retries outside a transaction (`exec`, `query`,
 * `appendRows`), then reports a lost connection, so the real retry (`withTransientRetry`) runs it
 * a second time, as it would after a lost acknowledgement. Transactions and streamed loads are
 * not retried by that engine, and pass through. `replays` counts the statements run twice.
 */
export function lostAcknowledgementWarehouse(wh: Warehouse): Warehouse & { replays: number } {
  const replayed = new WeakSet<object>();
  const state = { replays: 0 };
  const twice = <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    const token = {};
    return withTransientRetry(
      operation,
      async () => {
        const result = await fn();
        if (!replayed.has(token)) {
          replayed.add(token);
          state.replays++;
          throw lostAcknowledgement();
        }
        return result;
      },
      { log: silentLog, wait: () => Promise.resolve() },
    );
  };
  const wrapped: Warehouse = {
    engine: wh.engine,
    exec: (sql: string, params?: SqlParams) => twice('exec', () => wh.exec(sql, params)),
    query: <T extends object = Row>(sql: string, params?: SqlParams) => twice('query', () => wh.query<T>(sql, params)),
    appendRows: (table: TableDef, rows: unknown[][]) => twice('append rows', () => wh.appendRows(table, rows)),
    loadJsonLines: (table: TableDef, lines: Readable, constants?: Record<string, string>) => wh.loadJsonLines(table, lines, constants),
    loadJsonLinesMany: (table: TableDef, parts: JsonLinesPart[]) => wh.loadJsonLinesMany(table, parts),
    transaction: <T>(fn: (tx: SqlSession) => Promise<T>) => wh.transaction(fn),
    close: () => wh.close(),
  };
  return Object.defineProperty(wrapped, 'replays', { get: () => state.replays }) as Warehouse & { replays: number };
}
