/**
 * CPU profiles of this process, one per benchmark stage (`npm run bench -- --cpu-prof DIR`): each
 * is written as `DIR/<stage>.cpuprofile` (open it in Chrome DevTools or VS Code) and summarised as
 * self time by module and by function, so a slow stage shows where its JavaScript time goes.
 * DuckDB's own threads are not sampled (native code outside the JS thread); its calls show as the
 * time the JS thread spends waiting, i.e. `(idle)`.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export class StageProfiler {
  private readonly session = new Session();
  private connected = false;

  constructor(private readonly dir: string) {}

  async start(): Promise<void> {
    if (!this.connected) {
      this.session.connect();
      this.connected = true;
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 500 });
    }
    await this.session.post('Profiler.start');
  }

  /** Stops the profile, writes it to `<dir>/<name>.cpuprofile` and returns it. */
  async stop(name: string): Promise<{ profile: CpuProfile; file: string }> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    const file = path.join(this.dir, `${name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    return { profile, file };
  }

  close(): void {
    if (this.connected) this.session.disconnect();
    this.connected = false;
  }
}

/** The module a frame belongs to: an npm package, a project file, a node built-in, or a V8 marker. */
function moduleOf(frame: CallFrame, root: string): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return path.relative(root, file);
}

/** Self time (ms) by module and by function, largest first. */
export function summariseProfile(profile: CpuProfile, root: string, top = 12): { totalMs: number; byModule: [string, number][]; byFunction: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // a sample's time is the delta to the next sample
    const ms = (deltas[i + 1] ?? 0) / 1000;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + ms);
  }
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    totalMs += ms;
    const mod = moduleOf(node.callFrame, root);
    modules.set(mod, (modules.get(mod) ?? 0) + ms);
    // (line numbers are left out: under tsx they are those of the transpiled code)
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${mod}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs, byModule: sorted(modules), byFunction: sorted(functions) };
}
