/**
 * Debian's Chromium driven by playwright-core (a devDependency), for the report's browser test and
 * `npm run report -- --screenshot`. Never a downloaded browser: the system's `/usr/bin/chromium`
 * (`apt-get install chromium`), headless, with a fresh profile, and told not to reach the network
 * on its own (background updates, component downloads, first-run pages).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<Chromium> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'report-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
