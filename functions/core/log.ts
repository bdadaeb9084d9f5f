/**
 * The logger the host-independent code writes to. The Functions entry points adapt the
 * InvocationContext to it (so lines reach Application Insights); the local runner and tests use
 * the console one. Every line carries structured properties; secrets are never logged.
 */
export interface Log {
  info(message: string, props?: Record<string, unknown>): void;
  warn(message: string, props?: Record<string, unknown>): void;
  error(message: string, props?: Record<string, unknown>): void;
}

function format(props?: Record<string, unknown>): string {
  if (!props || Object.keys(props).length === 0) return '';
  return ' ' + JSON.stringify(props);
}

export function consoleLog(prefix = ''): Log {
  return {
    info: (m, p) => console.log(`${prefix}${m}${format(p)}`),
    warn: (m, p) => console.warn(`${prefix}WARN ${m}${format(p)}`),
    error: (m, p) => console.error(`${prefix}ERROR ${m}${format(p)}`),
  };
}

/** Collects lines in memory; for tests that assert on what was logged. */
export function memoryLog(): Log & { lines: { level: string; message: string; props?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; props?: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message, props) => lines.push({ level: 'info', message, props }),
    warn: (message, props) => lines.push({ level: 'warn', message, props }),
    error: (message, props) => lines.push({ level: 'error', message, props }),
  };
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };
