/**
 * CRM warehouse fixtures: export rows written as objects with only the fields a test is about (the
 * rest take plain defaults), uploaded through the real upload ingest, and the tables read back.
 */
import { runUploadIngest, type UploadOutcome } from '../../functions/ingest/uploadIngest.js';
import { HEADERS, type CrmSource } from '../../functions/domains/crm_warehouse/sample.js';
import type { SqlSession } from '../../functions/warehouse/warehouse.js';
import { putBlob, type TestContext, type TestStorage } from './pipeline.js';

const T0 = '2024-01-01T09:00:00Z';

/** What a field holds when a fixture row does not say. */
export const DEFAULTS: Record<CrmSource, Record<string, string>> = {
  crm_accounts: { account_name: 'Acme', industry: 'software', country: 'DE', employee_count: '50', annual_revenue: '1000000.00', account_type: 'customer', owner: 'Ana', created_at: T0, updated_at: T0 },
  crm_contacts: { account_id: 'A1', first_name: 'Ada', last_name: 'Lovelace', email: '', job_title: 'Analyst', gender: 'Female', income_segment: 'Medium', created_at: T0, updated_at: T0 },
  crm_products: { sku: 'SKU', product_name: 'Widget', category: 'Hardware', unit_price: '10.00', unit_cost: '4.00', stock_quantity: '100', reorder_level: '10', is_active: 'true', updated_at: T0 },
  crm_deals: { account_id: 'A1', contact_id: 'C1', deal_name: 'Deal', stage: 'prospecting', amount: '1000.00', probability: '10', expected_close_date: '2024-06-30', owner: 'Ana', created_at: T0, closed_at: '', updated_at: T0 },
  crm_activities: { activity_type: 'call', account_id: 'A1', contact_id: 'C1', deal_id: '', owner: 'Ana', subject: 'hello', activity_at: T0, due_at: '', completed_at: '', updated_at: T0 },
  crm_tickets: { account_id: 'A1', contact_id: 'C1', channel: 'email', issue_type: 'billing', priority: 'medium', status: 'open', created_at: T0, first_response_at: '', resolved_at: '', csat_score: '', updated_at: T0 },
  crm_order_lines: { line_number: '1', account_id: 'A1', contact_id: 'C1', product_id: 'P1', quantity: '1', unit_price: '10.00', discount: '', order_status: 'delivered', ordered_at: T0, shipped_at: '', delivered_at: '', updated_at: T0 },
};

/** A CSV export of `source` with its header and the given rows (defaults filled in). */
export function crmCsv(source: CrmSource, rows: Record<string, string>[]): string {
  const header = HEADERS[source];
  const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header.join(','), ...rows.map((r) => header.map((h) => quote(r[h] ?? DEFAULTS[source][h] ?? '')).join(','))].join('\n') + '\n';
}

/** Uploads one export to `landing/<source>/<name>` and runs the upload ingest on it (at the context's clock). */
export async function uploadCrm(ctx: TestContext, storage: TestStorage, source: CrmSource, name: string, rows: Record<string, string>[]): Promise<UploadOutcome> {
  await putBlob(storage.storage, 'landing', `${source}/${name}`, crmCsv(source, rows));
  return runUploadIngest(ctx, `${source}/${name}`);
}

/** A table's rows in a fixed order, only the columns asked for. */
export function rowsOf<T extends object = Record<string, unknown>>(wh: SqlSession, table: string, columns: string[], orderBy: string): Promise<T[]> {
  return wh.query<T>(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${orderBy}`);
}
