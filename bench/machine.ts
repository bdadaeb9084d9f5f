/** What the machine's other processes take: the benchmarks run on a shared, noisy machine. */
import { readFile } from 'node:fs/promises';

/** CPU time (ms) every process of the machine has used so far (Linux /proc/stat), to tell contention apart. */
export async function machineBusyMs(): Promise<number | undefined> {
  try {
    const ticks = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait, 100 ticks a second
    return ticks.reduce((a, b, i) => (i === 3 || i === 4 ? a : a + b), 0) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) this process has used so far: its JavaScript and the in-process DuckDB's threads. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
