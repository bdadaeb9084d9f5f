import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isUnresolvedKeyVaultReference, loadSettings, settingsSchema } from '../functions/core/settings.js';
import { usageClientOptionsFromSettings } from '../functions/domains/company_activity/sources/productUsage/apiClient.js';

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

  it('treat an empty value as unset (a blank app setting means "use the default")', () => {
    const s = loadSettings({ USAGE_START_DATE: '', CHURN_INACTIVE_DAYS: '', USAGE_API_BASE_URL: '' });
    expect(s.USAGE_START_DATE).toBeUndefined();
    expect(s.CHURN_INACTIVE_DAYS).toBe(7);
    expect(s.USAGE_API_BASE_URL).toBeUndefined();
  });

  it('name a Key Vault reference the platform could not resolve, instead of sending it as the token', () => {
    const reference = '@Microsoft.KeyVault(VaultName=kv-abc;SecretName=usage-api-token)';
    expect(isUnresolvedKeyVaultReference(reference)).toBe(true);
    expect(isUnresolvedKeyVaultReference('tok_123')).toBe(false);
    const settings = loadSettings({ USAGE_API_BASE_URL: 'https://usage.example.com', USAGE_API_TOKEN: reference });
    expect(() => usageClientOptionsFromSettings(settings)).toThrow(/USAGE_API_TOKEN is a Key Vault reference the platform could not resolve/);
    expect(usageClientOptionsFromSettings(loadSettings({ USAGE_API_BASE_URL: 'https://usage.example.com', USAGE_API_TOKEN: 'tok_123' })).token).toBe('tok_123');
  });
});
