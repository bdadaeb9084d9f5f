import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings, settingsSchema } from '../functions/core/settings.js';

describe('settings', () => {
  it('are all documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = Object.keys(settingsSchema.shape).filter((name) => !readme.includes(`\`${name}\``) && !readme.includes(`${name}\``));
    expect(missing).toEqual([]);
  });

  it('have working defaults with nothing set', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({ WAREHOUSE_ENGINE: 'duckdb', CHURN_INACTIVE_DAYS: 7, CHURN_CONTACT_WINDOW_DAYS: 30, USAGE_INGEST_SCHEDULE: '0 0 2 * * *' });
    expect(s.duckdbPath).toMatch(/\.local[/\\]warehouse\.duckdb$/);
  });

  it('name every bad variable', () => {
    const bad = () => loadSettings({ WAREHOUSE_ENGINE: 'oracle', CHURN_INACTIVE_DAYS: 'seven', USAGE_START_DATE: '2024-13-01x' });
    expect(bad).toThrow(/WAREHOUSE_ENGINE/);
    expect(bad).toThrow(/CHURN_INACTIVE_DAYS/);
    expect(bad).toThrow(/USAGE_START_DATE: expected a date as YYYY-MM-DD/);
  });
});
