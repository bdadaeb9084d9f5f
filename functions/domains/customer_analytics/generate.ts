/**
 * A deterministic, streaming generator of customer data: a customers file and a transactions
 * file (and, on request, a `sales` export), with what the models look for — weekly and yearly
 * seasonality, heavy-tailed spend (log-normal per customer and per purchase), refunds, declined
 * transactions, customers who move (a second customers file with new attributes), and planted
 * churn: every customer has a day it stops buying, and its purchase rate fades over the 60 days
 * before it, so recency and the 90-day trend carry the signal a churn model should find.
 *
 * Rows are produced day by day and written as they come (memory holds one state per customer,
 * never the rows): `npm run generate -- customers --customers 50000 --days 580` writes about
 * 14 million transactions. The same options give the same bytes.
 *
 *   npm run generate -- customers [--customers 50000] [--days 580] [--seed 42] [--end YYYY-MM-DD]
 *                      [--out .local/generated] [--sales 0] [--rate 1]
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { addDays, toIsoDate, type IsoDate } from '../../core/dates.js';
import { prng } from '../../core/random.js';

const CATEGORIES: { name: string; scale: number; weight: number }[] = [
  { name: 'Groceries', scale: 0.8, weight: 30 },
  { name: 'Restaurants', scale: 0.6, weight: 18 },
  { name: 'Fuel', scale: 0.9, weight: 12 },
  { name: 'Fashion', scale: 1.6, weight: 9 },
  { name: 'Electronics', scale: 3.5, weight: 5 },
  { name: 'Travel', scale: 5, weight: 4 },
  { name: 'Health', scale: 1.2, weight: 7 },
  { name: 'Entertainment', scale: 0.9, weight: 8 },
  { name: 'Home', scale: 2.2, weight: 5 },
  { name: 'Utilities', scale: 1.5, weight: 2 },
];
const CATEGORY_CDF = (() => {
  const total = CATEGORIES.reduce((n, c) => n + c.weight, 0);
  let acc = 0;
  return CATEGORIES.map((c) => (acc += c.weight / total));
})();
const CHANNELS = ['Online', 'In-Store', 'Mobile'];
const STATES: [string, string][] = [['CA', 'Los Angeles'], ['CA', 'San Diego'], ['TX', 'Houston'], ['TX', 'Austin'], ['NY', 'New York'], ['FL', 'Miami'], ['IL', 'Chicago'], ['WA', 'Seattle'], ['MA', 'Boston'], ['CO', 'Denver'], ['GA', 'Atlanta'], ['AZ', 'Phoenix']];
const EMPLOYMENT = ['Employed', 'Employed', 'Employed', 'Self-employed', 'Student', 'Retired', 'Unemployed'];
const CARDS = ['Visa', 'Visa', 'Mastercard', 'Mastercard', 'Amex', 'Discover'];
const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances', 'John', 'Radia', 'Tim', 'Hedy', 'Edsger', 'Katherine', 'Donald'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov', 'Thompson', 'Allen', 'McCarthy', 'Perlman', 'Berners-Lee', 'Lamarr', 'Dijkstra', 'Johnson', 'Knuth'];

export const CUSTOMERS_HEADER = 'customer_id,first_name,last_name,email,age,state,city,employment_status,card_type,credit_limit,account_open_date,customer_segment,decline_type,updated_at';
export const TRANSACTIONS_HEADER = 'transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status';

export interface GenerateOptions {
  customers: number;
  days: number;
  seed: number;
  /** The last day of transactions. */
  endDate: IsoDate;
  /** Mean purchases per active customer and day before seasonality (default 1: 14.0 M rows for 50,000 × 580). */
  rate?: number;
}

/** Where the lines go; `write` may return a promise to wait on (backpressure). */
export interface GeneratorSinks {
  customers: (line: string) => void | Promise<void>;
  /** The second customers file: customers whose attributes changed (SCD type 2). */
  customerUpdates?: (line: string) => void | Promise<void>;
  transactions: (line: string, day: IsoDate) => void | Promise<void>;
}

export interface GeneratedCounts {
  customers: number;
  customerUpdates: number;
  transactions: number;
  churned: number;
  firstDate: IsoDate;
  lastDate: IsoDate;
}

const customerId = (i: number) => `C${String(i + 1).padStart(6, '0')}`;

/** A standard normal draw (Box-Muller, one of the pair). */
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A Poisson draw by inversion (the rates here are small). */
function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  const l = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > l && k < 50) {
    k++;
    p *= rand();
  }
  return k;
}

/** Days from 1970-01-01 (UTC) of an ISO date. */
const dayNumber = (d: IsoDate) => Date.parse(`${d}T00:00:00Z`) / 86_400_000;

/** Purchases are likelier on weekends and in December, less so in February. */
function seasonality(day: IsoDate): number {
  const t = new Date(`${day}T00:00:00Z`);
  const weekday = t.getUTCDay();
  const month = t.getUTCMonth();
  const weekly = weekday === 0 || weekday === 6 ? 1.25 : weekday === 5 ? 1.1 : 0.93;
  const yearly = [0.9, 0.85, 0.95, 1, 1, 1.05, 1.1, 1.05, 0.95, 1, 1.15, 1.45][month]!;
  return weekly * yearly;
}

const FADE_DAYS = 60;

/** One generated line: a customers row, a customers-update row or a transactions row (with its day). */
export type GeneratedLine = { file: 'customers' | 'customerUpdates'; line: string } | { file: 'transactions'; line: string; day: IsoDate };

/** The generator itself, line by line (headers first); counts go into `counts` as it runs. */
export function* customerLines(options: GenerateOptions, counts: GeneratedCounts = emptyCounts(options)): Generator<GeneratedLine> {
  const rand = prng(options.seed);
  const n = options.customers;
  const first = addDays(options.endDate, -(options.days - 1));
  const firstDay = dayNumber(first);
  const meanRate = options.rate ?? 1;
  counts.firstDate = first;

  // one state per customer
  const start = new Float64Array(n); // day number of its first possible purchase
  const churnDay = new Float64Array(n); // the day it stops
  const rate = new Float64Array(n);
  const spendMu = new Float64Array(n);
  const channel = new Uint8Array(n);

  yield { file: 'customers', line: CUSTOMERS_HEADER };
  yield { file: 'customerUpdates', line: CUSTOMERS_HEADER };
  for (let i = 0; i < n; i++) {
    // a third were customers before the period; the rest join during its first 80 %
    start[i] = rand() < 0.33 ? firstDay : firstDay + Math.floor(rand() * options.days * 0.8);
    // heavy-tailed activity: most buy now and then, a few almost daily
    rate[i] = meanRate * Math.exp(0.9 * normal(rand) - 0.405);
    spendMu[i] = Math.log(35) + 0.7 * normal(rand);
    channel[i] = Math.floor(rand() * 3);
    const age = 18 + Math.floor(rand() * 62);
    const creditLimit = Math.round(Math.exp(Math.log(5000) + 0.6 * normal(rand)) / 100) * 100;
    // churn: about one customer in two stops within a year and a half; younger customers with low limits sooner
    const hazard = (1 / 450) * (creditLimit < 3000 ? 1.4 : 1) * (age < 30 ? 1.2 : 1);
    const stopsAfter = -Math.log(1 - rand()) / hazard;
    churnDay[i] = start[i]! + 30 + stopsAfter;
    if (churnDay[i]! <= firstDay + options.days - 1) counts.churned++;
    const [state, city] = STATES[Math.floor(rand() * STATES.length)]!;
    const firstName = FIRST[Math.floor(rand() * FIRST.length)]!;
    const lastName = LAST[Math.floor(rand() * LAST.length)]!;
    const signup = toIsoDate(new Date(start[i]! * 86_400_000));
    const opened = addDays(signup, -Math.floor(rand() * 3650));
    const id = customerId(i);
    const row = (st: string, ct: string, updated: IsoDate) =>
      [id, firstName, lastName, `${firstName.toLowerCase()}.${lastName.toLowerCase()}${i}@example.com`, age, st, ct, EMPLOYMENT[Math.floor(rand() * EMPLOYMENT.length)], CARDS[Math.floor(rand() * CARDS.length)], creditLimit, opened, '', '', updated].join(',');
    yield { file: 'customers', line: row(state, city, signup) };
    counts.customers++;
    // one in ten moves half way through: a new version
    if (rand() < 0.1) {
      const [s2, c2] = STATES[Math.floor(rand() * STATES.length)]!;
      yield { file: 'customerUpdates', line: row(s2, c2, addDays(first, Math.floor(options.days / 2))) };
      counts.customerUpdates++;
    }
  }

  yield { file: 'transactions', line: TRANSACTIONS_HEADER, day: first };
  let seq = 0;
  for (let d = 0; d < options.days; d++) {
    const day = addDays(first, d);
    const dn = firstDay + d;
    const season = seasonality(day);
    for (let i = 0; i < n; i++) {
      if (dn < start[i]! || dn >= churnDay[i]!) continue;
      // the fade before churning: the rate falls to a fifth over FADE_DAYS
      const toChurn = churnDay[i]! - dn;
      const fade = toChurn < FADE_DAYS ? 0.2 + 0.8 * (toChurn / FADE_DAYS) : 1;
      const k = poisson(rand, rate[i]! * season * fade);
      for (let j = 0; j < k; j++) {
        let c = 0;
        const u = rand();
        while (c < CATEGORY_CDF.length - 1 && u > CATEGORY_CDF[c]!) c++;
        const category = CATEGORIES[c]!;
        const amount = Math.min(999_999, Math.exp(spendMu[i]! + 0.6 * normal(rand)) * category.scale);
        const r = rand();
        const status = r < 0.03 ? 'declined' : 'approved';
        const refund = status === 'approved' && r > 0.99;
        const ch = rand() < 0.8 ? CHANNELS[channel[i]!]! : CHANNELS[Math.floor(rand() * 3)]!;
        const hh = String(8 + Math.floor(rand() * 14)).padStart(2, '0');
        const mm = String(Math.floor(rand() * 60)).padStart(2, '0');
        seq++;
        counts.transactions++;
        yield {
          file: 'transactions',
          day,
          line: `T${String(seq).padStart(9, '0')},${customerId(i)},${day}T${hh}:${mm}:00Z,${(refund ? -amount : amount).toFixed(2)},${category.name} Shop ${1 + Math.floor(rand() * 20)},${category.name},${ch},${status}`,
        };
      }
    }
  }
}

function emptyCounts(options: GenerateOptions): GeneratedCounts {
  return { customers: 0, customerUpdates: 0, transactions: 0, churned: 0, firstDate: options.endDate, lastDate: options.endDate };
}

/** Streams the generated lines into the sinks, waiting on each one's backpressure. */
export async function generateCustomerData(options: GenerateOptions, sinks: GeneratorSinks): Promise<GeneratedCounts> {
  const counts = emptyCounts(options);
  for (const g of customerLines(options, counts)) {
    const pending = g.file === 'transactions' ? sinks.transactions(g.line, g.day) : g.file === 'customers' ? sinks.customers(g.line) : sinks.customerUpdates?.(g.line);
    if (pending) await pending;
  }
  return counts;
}

/** A `sales` export as pandas writes it: a row index headed `indexHeader` first. */
export function salesCsv(options: { rows: number; customers: number; seed: number; endDate: IsoDate; days: number; indexHeader?: string; orderPrefix?: string }): string {
  const rand = prng(options.seed ^ 0x5a1e5);
  const lines = [`${options.indexHeader ?? ''},Date,Customer ID,Order ID,Sales`];
  for (let r = 0; r < options.rows; r++) {
    // later days a little busier; heavy-tailed amounts; a few customers buy much more often
    const day = addDays(options.endDate, -Math.floor(options.days * Math.pow(rand(), 1.3)));
    const customer = Math.floor(options.customers * Math.pow(rand(), 1.8));
    const amount = Math.exp(Math.log(40) + 0.8 * normal(rand));
    lines.push(`${r},${day},S${String(customer + 1).padStart(6, '0')},${options.orderPrefix ?? 'O'}${String(r + 1).padStart(8, '0')},${amount.toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

/** A line writer to a file, 1 MB at a time, waiting when the stream is full. */
export function fileSink(file: string): { write: (line: string) => void | Promise<void>; close: () => Promise<void>; stream: WriteStream } {
  mkdirSync(path.dirname(file), { recursive: true });
  const stream = createWriteStream(file);
  let buffer = '';
  const flush = async () => {
    if (!stream.write(buffer)) await once(stream, 'drain');
    buffer = '';
  };
  return {
    stream,
    write: (line) => {
      buffer += `${line}\n`;
      return buffer.length >= 1 << 20 ? flush() : undefined;
    },
    close: async () => {
      if (buffer) await flush();
      stream.end();
      await once(stream, 'finish');
    },
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      customers: { type: 'string', default: '50000' },
      days: { type: 'string', default: '580' },
      seed: { type: 'string', default: '42' },
      end: { type: 'string' },
      out: { type: 'string', default: path.join(process.env.PIPELINE_LOCAL_DIR ?? '.local', 'generated') },
      sales: { type: 'string', default: '0' },
      rate: { type: 'string', default: '1' },
    },
  });
  if (positionals[0] !== 'customers' || positionals.length > 1) throw new Error('usage: npm run generate -- customers [--customers 50000] [--days 580] [--seed 42] [--end YYYY-MM-DD] [--out dir] [--sales rows] [--rate 1]');
  const whole = (name: string, v: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 0) throw new Error(`--${name} must be a whole number, got "${v}"`);
    return x;
  };
  const options: GenerateOptions = {
    customers: whole('customers', values.customers),
    days: whole('days', values.days),
    seed: whole('seed', values.seed),
    endDate: values.end ?? addDays(toIsoDate(new Date()), -1),
    rate: Number(values.rate),
  };
  const out = path.resolve(values.out);
  const started = Date.now();
  const customersFile = fileSink(path.join(out, 'customers.csv'));
  const updatesFile = fileSink(path.join(out, 'customers_updates.csv'));
  const transactionsFile = fileSink(path.join(out, 'transactions.csv'));
  const counts = await generateCustomerData(options, { customers: customersFile.write, customerUpdates: updatesFile.write, transactions: transactionsFile.write });
  await Promise.all([customersFile.close(), updatesFile.close(), transactionsFile.close()]);
  const sales = whole('sales', values.sales);
  if (sales > 0) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(out, 'sales.csv'), salesCsv({ rows: sales, customers: Math.max(1, Math.round(sales / 8)), seed: options.seed, endDate: options.endDate, days: options.days }));
  }
  console.log(
    `${counts.transactions.toLocaleString('en-US')} transactions of ${counts.customers.toLocaleString('en-US')} customers (${counts.churned.toLocaleString('en-US')} stop buying), ` +
      `${counts.firstDate} … ${counts.lastDate}; ${counts.customerUpdates.toLocaleString('en-US')} customer updates${sales ? `; ${sales.toLocaleString('en-US')} sales rows` : ''}; in ${((Date.now() - started) / 1000).toFixed(1)} s → ${out}`,
  );
  console.log(`upload: npm run upload -- customers ${path.join(out, 'customers.csv')} && npm run upload -- transactions ${path.join(out, 'transactions.csv')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`npm run generate failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
