/**
 * `npm run upload` as a user runs it: a real process on a fresh PIPELINE_LOCAL_DIR, a CSV with bad
 * rows, and the two mistakes a user makes (an unknown source, a missing file).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmSampleCsv } from '../functions/local/sampleData.js';
import { UPLOAD_SOURCES } from '../functions/domains/registry.js';
import { upload } from './support/uploadProcess.js';

describe('npm run upload', () => {
  let dir: string;
  const sample = crmSampleCsv({ seed: 5, companies: 12, days: 10, endDate: '2026-10-10', badRowEvery: 4 });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-upload-'));
    await writeFile(path.join(dir, 'crm.csv'), sample.csv);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('puts a file through landing, bronze and the models, and accounts for every row', async () => {
    const r = await upload(dir, 'crm_company_daily', path.join(dir, 'crm.csv'));
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const good = sample.rows - sample.badLines.length;
    expect(r.stdout).toContain(`rows           ${sample.rows} total = ${good} landed in bronze + ${sample.badLines.length} quarantined`);
    expect(r.stdout).toMatch(/bad rows +quarantine\/crm_company_daily\/ingest_date=\d{4}-\d{2}-\d{2}\/[0-9a-f]{64}\.rejected\.jsonl/);
    expect(r.stdout).toMatch(/model\(s\) rebuilt: silver\.dim_company \(\d+ rows\), silver\.dim_calendar \(\d+ rows\), gold\.fact_company_activity_daily \(\d+ rows\)/);
    expect(r.stdout).toContain('Company activity');

    // the same bytes again: recognised, nothing to do
    const again = await upload(dir, 'crm_company_daily', path.join(dir, 'crm.csv'));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already ingested');
    expect(again.stdout).toContain('transform      nothing to do');
  }, 120_000);

  it('refuses an unknown source or a missing file in one line that lists the sources', async () => {
    const unknown = await upload(dir, 'crm_nope', path.join(dir, 'crm.csv'));
    expect(unknown.code).toBe(2);
    const sources = UPLOAD_SOURCES.map((s) => s.name).join(', ');
    expect(unknown.stderr.trim()).toBe(`npm run upload: unknown source "crm_nope" (upload sources: ${sources})`);
    const missing = await upload(dir, 'crm_company_daily', path.join(dir, 'absent.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^npm run upload: no such file ".*absent\.csv" \(upload sources: [a-z_, ]+\)$/);
    expect(missing.stderr).toContain(`(upload sources: ${sources})`);
  }, 60_000);
});
