/**
 * The deterministic sample `npm start` uploads for customer analytics: a customers file, a later
 * file of customers who moved (new SCD2 versions), the transactions in two exports (the last two
 * weeks a file of their own, with a corrected row re-sent and a few bad rows), and two `sales`
 * exports of another shop as pandas writes them (index headed `` and `Unnamed: 0`). 450 days,
 * long enough for a trained churn model.
 */
import { addDays } from '../../core/dates.js';
import type { SampleFile, SampleOptions } from '../domain.js';
import { customerLines, salesCsv, TRANSACTIONS_HEADER } from './generate.js';

export const SAMPLE_CUSTOMERS = 400;
export const SAMPLE_DAYS = 450;

export function customerSample(options: SampleOptions): SampleFile[] {
  const end = options.endDate;
  const split = addDays(end, -13);
  const customers: string[] = [];
  const updates: string[] = [];
  const older: string[] = [];
  const recent: string[] = [TRANSACTIONS_HEADER];
  for (const g of customerLines({ customers: SAMPLE_CUSTOMERS, days: SAMPLE_DAYS, seed: options.seed, endDate: end, rate: 0.12 })) {
    if (g.file === 'transactions') (g.line === TRANSACTIONS_HEADER || g.day < split ? older : recent).push(g.line);
    else (g.file === 'customers' ? customers : updates).push(g.line);
  }
  // the later export re-sends an earlier row with a corrected amount (the later file wins) …
  const corrected = older[older.length - 1]!.split(',');
  corrected[3] = (Number(corrected[3]) + 1).toFixed(2);
  recent.push(corrected.join(','));
  // … and carries rows a contract refuses: an unknown status, a date that is not one, an empty customer
  recent.push(`TBAD00001,C000001,${end},12.00,Shop,Groceries,Online,pending`);
  recent.push('TBAD00002,C000002,yesterday,12.00,Shop,Groceries,Online,approved');
  recent.push(`TBAD00003,,${end},12.00,Shop,Groceries,Online,approved`);
  const tag = `seed${options.seed}_${end}`;
  return [
    { source: 'customers', name: `customers_${tag}.csv`, content: customers.join('\n') + '\n' },
    { source: 'transactions', name: `transactions_${tag}_a.csv`, content: older.join('\n') + '\n' },
    { source: 'customers', name: `customers_updates_${tag}.csv`, content: updates.join('\n') + '\n' },
    { source: 'transactions', name: `transactions_${tag}_b.csv`, content: recent.join('\r\n') + '\r\n' },
    { source: 'sales', name: `sales_${tag}_a.csv`, content: salesCsv({ rows: 1_500, customers: 200, seed: options.seed, endDate: addDays(end, -30), days: 300, indexHeader: '' }) },
    { source: 'sales', name: `sales_${tag}_b.csv`, content: salesCsv({ rows: 300, customers: 200, seed: options.seed + 1, endDate: end, days: 30, indexHeader: 'Unnamed: 0', orderPrefix: 'B' }) },
  ];
}
