/**
 * Starts Azurite (the Azure Storage emulator, from npm) for blob and queue on free loopback
 * ports and returns a connection string for it. Used by the local runner, the dev host and tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Azurite's well-known development account (public, documented; not a secret). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Folder for Azurite's data; omit to keep everything in memory (tests). */
  location?: string;
}

function azuriteBin(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('azurite/package.json');
  return path.join(path.dirname(pkgJson), 'dist', 'src', 'azurite.js');
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const args = [
    azuriteBin(),
    '--blobHost', '127.0.0.1', '--blobPort', '0',
    '--queueHost', '127.0.0.1', '--queuePort', '0',
    '--tableHost', '127.0.0.1', '--tablePort', '0',
    '--disableTelemetry', '--skipApiVersionCheck', '--silent',
  ];
  if (options.location) {
    await mkdir(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ports = await waitForPorts(child);
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${DEV_ACCOUNT};QueueEndpoint=http://127.0.0.1:${ports.queue}/${DEV_ACCOUNT};`;
  return {
    connectionString,
    blobPort: ports.blob,
    queuePort: ports.queue,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

function waitForPorts(child: ChildProcess): Promise<{ blob: number; queue: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const ports: { blob?: number; queue?: number } = {};
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start within 30 s. Output:\n${out}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/Azurite (Blob|Queue) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g)) {
        if (m[1] === 'Blob') ports.blob = Number(m[2]);
        else ports.queue = Number(m[2]);
      }
      if (ports.blob && ports.queue && /Table service is successfully listening/.test(out)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ blob: ports.blob, queue: ports.queue });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code} before it was ready. Output:\n${out}`));
    });
  });
}
