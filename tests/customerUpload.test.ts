/**
 * `npm run upload` for the customer sources as a user runs it (a real process on a fresh
 * PIPELINE_LOCAL_DIR): the customer block of the summary, and `--as-of`, also for a file already
 * ingested (the marts are rebuilt as of the date given).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from './support/uploadProcess.js';

const TRANSACTIONS = [
  'transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status',
  'T1,A,2022-01-10,100.00,Shop,Groceries,Online,approved',
  'T2,B,2022-06-01,50.00,Shop,Groceries,Online,approved',
  'T3,A,2022-12-20,70.00,Shop,Travel,Online,approved',
  'T4,C,2022-12-30,20.00,Shop,Travel,Mobile,nope', // a bad status: quarantined
].join('\n');

describe('npm run upload for customer analytics', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-customers-'));
    await writeFile(path.join(dir, 'tx_2022.csv'), TRANSACTIONS);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('shows the customer block as of the data’s last date, or the date given, also for a file already ingested', async () => {
    const first = await upload(dir, 'transactions', path.join(dir, 'tx_2022.csv'));
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('rows           4 total = 3 landed in bronze + 1 quarantined');
    expect(first.stdout).toContain('Customer analytics');
    // a 2022 file analysed today: as of its own last transaction, 2022-12-20
    expect(first.stdout).toContain('as of          2022-12-20 (the last transaction date; data 2022-01-10 … 2022-12-20)');
    expect(first.stdout).toContain('revenue        220.00 from 3 purchases');
    // two customers: the top 20 % of 2 is nobody; A bought 0 days before (churn 25), B 202 days before
    // (0.7 × 202/365 + 0.3 × 11/12 = 0.66: 66, under 70)
    expect(first.stdout).toContain('segments       Lost 0, New 0, High Value 0, At Risk 0, Regular 2');
    expect(first.stdout).toContain('churn model    heuristic: history too short for a trained model: 344 days up to 2022-12-20');

    const again = await upload(dir, 'transactions', path.join(dir, 'tx_2022.csv'), '--as-of', '2022-06-30');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('As of 2022-06-30 (ANALYTICS_AS_OF_DATE for this run)');
    expect(again.stdout).toContain('nothing new in the file: rebuilding the models downstream of transactions over 2022-01-10 … 2022-12-20');
    expect(again.stdout).toContain('as of          2022-06-30 (ANALYTICS_AS_OF_DATE; data 2022-01-10 … 2022-12-20)');
    // T3 (December) is after the date: A 100 and B 50
    expect(again.stdout).toContain('revenue        150.00 from 2 purchases');

    const bad = await upload(dir, 'transactions', path.join(dir, 'tx_2022.csv'), '--as-of', '2022-13-01');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--as-of must be a date as YYYY-MM-DD, got "2022-13-01"');
  }, 180_000);
});
