/** Reading SQL Server errors as mssql and tedious wrap them. */

/**
 * The SQL Server error number behind `err`: on the error itself (`number`, or `info.number` as
 * tedious puts it), else on what it wraps (`originalError`, `cause`).
 */
export function sqlErrorNumber(err: unknown): number | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); ) {
    seen.add(e);
    const o = e as Record<string, unknown>;
    const info = o.info as Record<string, unknown> | undefined;
    const n = [o.number, info?.number].find((x): x is number => typeof x === 'number');
    if (n !== undefined) return n;
    e = o.originalError ?? o.cause;
  }
  return undefined;
}
