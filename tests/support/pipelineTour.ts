/**
 * A tour of the pipeline through the local host — the handlers the Functions host fires — that
 * takes every path that sends SQL: uploads (loaded, partly quarantined, drifted, a duplicate, a
 * rejected file), the usage pull, transforms with their data tests, every operation and the
 * monitor. Suites wrap its warehouse to see (or disturb) what it sends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { addDays, toIsoDate } from '../../functions/core/dates.js';
import { silentLog } from '../../functions/core/log.js';
import { runOperation, type OperationName } from '../../functions/ops/operations.js';
import { LocalHost } from '../../functions/local/localHost.js';
import { crmSampleCsv } from '../../functions/local/sampleData.js';
import { companyId, startUsageApiServer } from '../../functions/local/usageApiServer.js';
import { MODEL_GRAPH } from '../../functions/domains/registry.js';
import { crmSample, TOUR_SCALE } from '../../functions/domains/crm_warehouse/sample.js';
import { customerLines, salesCsv } from '../../functions/domains/customer_analytics/generate.js';
import type { Warehouse } from '../../functions/warehouse/warehouse.js';
import { goldHash } from './pipeline.js';

const SEED = 5;
const COMPANIES = 12;
const DAYS = 12;
const TOKEN = 'tour-token';

export interface TourResult {
  gold: { hash: string; rows: number };
  /** Failed queue-message attempts (0 when every handler succeeded). */
  failures: number;
  /** Operation calls that answered 500. */
  failedOperations: string[];
  /** Model keys with duplicates (DuckDB enforces none on data tables). */
  duplicateKeys: string[];
  fileStatuses: Record<string, number>;
}

export async function pipelineTour(wrapWarehouse?: (wh: Warehouse) => Warehouse): Promise<TourResult> {
  const yesterday = addDays(toIsoDate(new Date()), -1);
  const first = addDays(yesterday, -(DAYS - 1));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-tour-'));
  const api = await startUsageApiServer({ seed: SEED, companies: COMPANIES, token: TOKEN, badRecordRate: 0.02 });
  let host: LocalHost | undefined;
  try {
    host = await LocalHost.start({
      dir,
      log: silentLog,
      ...(wrapWarehouse ? { wrapWarehouse } : {}),
      env: { USAGE_API_BASE_URL: api.url, USAGE_API_TOKEN: TOKEN, USAGE_START_DATE: first, USAGE_MAX_DATES_PER_RUN: String(DAYS), USAGE_API_RETRY_BASE_MS: '1' },
    });
    let failures = 0;
    const drain = async (name: 'landingEvents' | 'transformRequests') => (failures += (await host!.drainQueue(name)).failures);

    const crm = crmSampleCsv({ seed: SEED, companies: COMPANIES, days: DAYS, endDate: yesterday }); // bad rows, an extra column (drift)
    await host.upload('crm_company_daily/export.csv', crm.csv);
    await host.upload('crm_company_daily/copy of export.csv', crm.csv); // the same bytes: a duplicate
    await host.upload('crm_company_daily/no-ids.csv', 'name,snapshot_date\nAcme,2024-01-01\n'); // a required column missing: rejected
    await host.upload('unknown_source/file.csv', 'a,b\n1,2\n'); // no source for the folder: rejected
    // the CRM warehouse's exports (several per source, bad rows, a late file): its ingest, load and models
    for (const f of crmSample({ seed: SEED, endDate: yesterday, scale: TOUR_SCALE })) await host.upload(`${f.source}/${f.name}`, f.content);
    // customer analytics: customers, transactions and a sales export (its ingest, load and code models)
    const customerFiles: Record<string, string[]> = { customers: [], customerUpdates: [], transactions: [] };
    for (const g of customerLines({ customers: 30, days: 60, seed: SEED, endDate: yesterday, rate: 0.3 })) customerFiles[g.file]!.push(g.line);
    await host.upload('customers/customers.csv', customerFiles.customers!.join('\n'));
    await host.upload('transactions/transactions.csv', customerFiles.transactions!.join('\n'));
    await host.upload('sales/sales.csv', salesCsv({ rows: 50, customers: 10, seed: SEED, endDate: yesterday, days: 30 }));
    await drain('landingEvents');
    await host.fireUsageTimer();
    await drain('transformRequests');

    const failedOperations: string[] = [];
    const operation = async (name: OperationName, input: unknown) => {
      const result = await runOperation(host!.ctx, name, input);
      if (result.status >= 500) failedOperations.push(`${name}: ${JSON.stringify(result.body)}`);
    };
    await operation('runs', {});
    await operation('runs', { kind: 'transform', status: 'succeeded', limit: 5 });
    await operation('freshness', {});
    await operation('trace', { company: companyId(1), date: yesterday });
    await operation('backfill', { from: addDays(yesterday, -2), to: yesterday, reason: 'tour' });
    await operation('replay', { file: `product_usage/activity_date=${yesterday}/usage.jsonl`, reason: 'tour' });
    await operation('rerun', { from: first, to: yesterday, reason: 'tour' });
    await operation('rerun', { from: first, to: yesterday, select: '+gold.fact_company_activity_daily', reason: 'tour' });
    await operation('lineage', { select: 'company_activity' });
    await operation('quarantine', { file: `product_usage/activity_date=${first}/usage.jsonl`, reason: 'tour' });
    await drain('landingEvents');
    await drain('transformRequests');
    await host.fireMonitorTimer();
    await host.fireUsageTimer(); // nothing new: watermark read, nothing pulled
    await drain('transformRequests');

    const wh = host.ctx.warehouse;
    const duplicateKeys: string[] = [];
    for (const model of MODEL_GRAPH.models) {
      const key = model.table.key!.join(', ');
      const dupes = await wh.query(`SELECT ${key}, COUNT(*) AS n FROM ${model.name} GROUP BY ${key} HAVING COUNT(*) > 1`);
      if (dupes.length) duplicateKeys.push(model.name);
    }
    const statuses = await wh.query<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM ops.file_ingests GROUP BY status`);
    return {
      gold: await goldHash(wh),
      failures,
      failedOperations,
      duplicateKeys,
      fileStatuses: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    };
  } finally {
    await host?.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
