/**
 * What the last `npm start` asked the local usage API stand-in for (seed, companies, bad-record
 * rate), kept in PIPELINE_LOCAL_DIR so a later `npm run ops -- backfill` pulls the same data.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LocalApiProfile {
  seed: number;
  companies: number;
  badRecordRate: number;
}

const DEFAULTS: LocalApiProfile = { seed: 42, companies: 50, badRecordRate: 0.002 };
const fileIn = (dir: string) => path.join(dir, 'usage-api-profile.json');

export async function writeLocalApiProfile(dir: string, profile: LocalApiProfile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(fileIn(dir), JSON.stringify(profile, null, 2) + '\n');
}

/** The profile of the last `npm start` in `dir`, or `npm start`'s defaults. */
export async function readLocalApiProfile(dir: string): Promise<LocalApiProfile> {
  try {
    return { ...DEFAULTS, ...(JSON.parse(await readFile(fileIn(dir), 'utf8')) as Partial<LocalApiProfile>) };
  } catch {
    return DEFAULTS;
  }
}
