/**
 * A deterministic CRM world: accounts, contacts, products, deals (every version of their stage
 * path), activities, tickets and order lines, generated row by row from a seed, so the same seed
 * gives the same bytes and a large world streams without being held in memory (`bench/crm_warehouse.ts`).
 *
 * `crmSample` cuts a small world into what a CRM's incremental exports look like over time (the
 * files `npm start` uploads): an initial export, then one every two weeks holding the rows created or
 * changed since the one before; a file that arrives late, after the next one; a correction export of
 * older versions; a few bad rows in every file; and a product that arrives a file after its orders.
 *
 * Planted patterns, which the tests check the metrics recover:
 *   - the social channel answers far slower (median ~12 h against 0.5–3 h) with lower CSAT (~2.6 against ~4.2);
 *   - resolution times are heavy-tailed (log-normal, σ 1.3): the median is well under the mean;
 *   - revenue is concentrated: product popularity follows a Zipf law, so a tenth of the products
 *     take most of the revenue;
 *   - about one deal in six moves backward a stage at least once.
 */
import { addDays, type IsoDate } from '../../core/dates.js';
import type { SampleFile, SampleOptions } from '../domain.js';
import { prng } from '../../core/random.js';

export interface CrmScale {
  accounts: number;
  contacts: number;
  products: number;
  /** Deals; each has about four versions (its stage path). */
  deals: number;
  activities: number;
  tickets: number;
  /** Order lines, about three per order. */
  orderLines: number;
  /** Days of history ending with `endDate`. */
  days: number;
}

/** What `npm start` uploads. */
export const SAMPLE_SCALE: CrmScale = { accounts: 300, contacts: 900, products: 60, deals: 700, activities: 3000, tickets: 2000, orderLines: 3600, days: 730 };
/** The pipeline tour of the tests: every path, quickly. */
export const TOUR_SCALE: CrmScale = { accounts: 20, contacts: 40, products: 10, deals: 30, activities: 60, tickets: 60, orderLines: 90, days: 120 };
/** `npm run bench -- --domain crm`: the issue's CRM scale. */
export const BENCH_SCALE: CrmScale = { accounts: 50_000, contacts: 200_000, products: 2_000, deals: 300_000, activities: 2_000_000, tickets: 500_000, orderLines: 1_000_000, days: 730 };

export const CRM_SOURCES = ['crm_accounts', 'crm_contacts', 'crm_products', 'crm_deals', 'crm_activities', 'crm_tickets', 'crm_order_lines'] as const;
export type CrmSource = (typeof CRM_SOURCES)[number];

export const HEADERS: Record<CrmSource, readonly string[]> = {
  crm_accounts: ['account_id', 'account_name', 'industry', 'country', 'employee_count', 'annual_revenue', 'account_type', 'owner', 'created_at', 'updated_at'],
  crm_contacts: ['contact_id', 'account_id', 'first_name', 'last_name', 'email', 'job_title', 'gender', 'income_segment', 'created_at', 'updated_at'],
  crm_products: ['product_id', 'sku', 'product_name', 'category', 'unit_price', 'unit_cost', 'stock_quantity', 'reorder_level', 'is_active', 'updated_at'],
  crm_deals: ['deal_id', 'account_id', 'contact_id', 'deal_name', 'stage', 'amount', 'probability', 'expected_close_date', 'owner', 'created_at', 'closed_at', 'updated_at'],
  crm_activities: ['activity_id', 'activity_type', 'account_id', 'contact_id', 'deal_id', 'owner', 'subject', 'activity_at', 'due_at', 'completed_at', 'updated_at'],
  crm_tickets: ['ticket_id', 'account_id', 'contact_id', 'channel', 'issue_type', 'priority', 'status', 'created_at', 'first_response_at', 'resolved_at', 'csat_score', 'updated_at'],
  crm_order_lines: ['order_id', 'line_number', 'account_id', 'contact_id', 'product_id', 'quantity', 'unit_price', 'discount', 'order_status', 'ordered_at', 'shipped_at', 'delivered_at', 'updated_at'],
};

/** One export row: its fields in header order, and when the version was written (for cutting exports). */
export interface CrmRow {
  updatedMs: number;
  fields: string[];
}

// ---- randomness --------------------------------------------------------------------------------

/** A generator for one entity: the same (seed, kind, id) always draws the same numbers. */
function rngFor(seed: number, kind: number, id: number): () => number {
  return prng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(kind + 1, 0xc2b2ae35) ^ Math.imul(id, 0x27d4eb2f));
}

/** A draw from a log-normal with the given median and σ. */
function logNormal(rand: () => number, median: number, sigma: number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

/** Picks by weight: `[[value, weight], …]`. */
function weighted<T>(rand: () => number, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((n, [, w]) => n + w, 0);
  let r = rand() * total;
  for (const [v, w] of table) if ((r -= w) < 0) return v;
  return table[table.length - 1]![0];
}

// ---- formatting --------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const dayText = new Map<number, string>();

/** `YYYY-MM-DDTHH:MM:SSZ`, or with a +02:00 offset for `offset` (exports mix both). Whole seconds. */
export function isoTime(ms: number, offset = false): string {
  const shifted = offset ? ms + 2 * HOUR_MS : ms;
  const day = Math.floor(shifted / DAY_MS);
  let d = dayText.get(day);
  if (d === undefined) {
    d = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayText.size > 100_000) dayText.clear();
    dayText.set(day, d);
  }
  const s = Math.floor((shifted - day * DAY_MS) / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return `${d}T${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}:${ss < 10 ? '0' : ''}${ss}${offset ? '+02:00' : 'Z'}`;
}

const isoDate = (ms: number): string => isoTime(ms).slice(0, 10);
const money = (v: number): string => (Math.round(v * 100) / 100).toFixed(2);

/** One CSV line: fields quoted when they need it. */
export function csvLine(fields: readonly string[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (i > 0) line += ',';
    line += /[",\n\r]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
  }
  return `${line}\n`;
}

// ---- the world ---------------------------------------------------------------------------------

export interface CrmWorld {
  seed: number;
  scale: CrmScale;
  /** First and last moment of the history (the end is the last millisecond of `endDate`). */
  startMs: number;
  endMs: number;
  /** Product choice: cumulative Zipf weights. */
  productCdf: Float64Array;
}

export function crmWorld(options: { seed: number; endDate: IsoDate; scale: CrmScale }): CrmWorld {
  const endMs = Date.parse(`${options.endDate}T23:59:59Z`);
  const startMs = Date.parse(`${addDays(options.endDate, -(options.scale.days - 1))}T00:00:00Z`);
  // popularity 1/k^1.1, the products shuffled so popularity does not follow the ids
  const n = options.scale.products;
  const weights = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = prng(options.seed ^ 0x51ed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  order.forEach((product, rank) => (weights[product] = 1 / Math.pow(rank + 1, 1.1)));
  const productCdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) productCdf[i] = sum += weights[i]!;
  for (let i = 0; i < n; i++) productCdf[i]! /= sum;
  return { seed: options.seed, scale: options.scale, startMs, endMs, productCdf };
}

const KIND = { account: 1, contact: 2, product: 3, deal: 4, activity: 5, ticket: 6, order: 7 } as const;

export const accountId = (i: number) => `A${String(i).padStart(6, '0')}`;
export const contactId = (i: number) => `C${String(i).padStart(7, '0')}`;
export const productId = (i: number) => `P${String(i).padStart(5, '0')}`;
export const dealId = (i: number) => `D${String(i).padStart(7, '0')}`;
export const activityId = (i: number) => `X${String(i).padStart(8, '0')}`;
export const ticketId = (i: number) => `T${String(i).padStart(7, '0')}`;
export const orderId = (i: number) => `O${String(i).padStart(7, '0')}`;

/** A contact's account: fixed by the ids alone, so any row can name both without a lookup. */
const accountOf = (w: CrmWorld, contact: number) => 1 + ((Math.imul(contact, 2654435761) >>> 0) % w.scale.accounts);

/** When an entity was created: spread over the history (accounts early, everything after its parent). */
function createdMs(w: CrmWorld, kind: number, id: number, after = w.startMs): number {
  const r = rngFor(w.seed, kind + 100, id)();
  return Math.floor(after + r * (w.endMs - after) * 0.995);
}

// Accounts arrive in the first quarter of the history and their contacts soon after, so the
// activity they generate spreads over the years rather than piling up at the end.
const accountCreated = (w: CrmWorld, a: number) => Math.floor(w.startMs + rngFor(w.seed, 101, a)() * (w.endMs - w.startMs) * 0.25);
const contactCreated = (w: CrmWorld, c: number) => {
  const after = accountCreated(w, accountOf(w, c));
  return Math.floor(after + rngFor(w.seed, KIND.contact + 100, c)() * (w.endMs - after) * 0.25);
};

const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Wonka'];
const INDUSTRIES = ['software', 'retail', 'finance', 'health', 'logistics', 'media', 'manufacturing', 'education'];
const COUNTRIES = ['DE', 'FR', 'GB', 'US', 'NL', 'ES', 'SE', 'PL', 'IT', 'CA'];
const OWNERS = ['Ana Ruiz', 'Ben Okafor', 'Chloé Martin', 'Dev Patel', 'Eva Nowak', 'Finn Berg', 'Grace Liu', 'Hugo Silva'];
const FIRST = ['Ada', 'Björn', 'Chen', 'Dana', 'Elif', 'Farah', 'Gustav', 'Hana', 'Ivo', 'Jana', 'Kofi', 'Lena', 'Marta', 'Noor', 'Omar', 'Priya'];
const LAST = ['Lovelace', 'Schmidt', "O'Neil", 'Nakamura', 'Kowalski', 'García', 'Dubois', 'Rossi', 'Jensen', 'Novak', ''];
const TITLES: readonly (readonly [string, number])[] = [
  ['CEO', 2], ['Chief Financial Officer', 1], ['CTO', 1], ['Co-founder', 1], ['VP of Sales', 3], ['Vice President, Marketing', 2],
  ['Director of Operations', 5], ['Head of IT', 3], ['Sales Manager', 8], ['Account Manager', 6], ['Team Lead', 4],
  ['Software Engineer', 10], ['Analyst', 8], ['Buyer', 6], ['Consultant', 5], ['', 4],
];
const CATEGORIES = ['Hardware', 'Software', 'Services', 'Accessories', 'Training', 'Support plans', 'Cloud', 'Consumables'];
const ISSUES: readonly (readonly [string, number])[] = [
  ['billing', 22], ['login', 16], ['shipping', 14], ['bug report', 12], ['how-to', 10], ['refund', 8], ['performance', 7], ['integration', 5], ['account change', 4], ['other', 2],
];
const STAGE_PROBABILITY: Record<string, number> = { prospecting: 10, qualification: 25, proposal: 50, negotiation: 75, closed_won: 100, closed_lost: 0 };
const OPEN_STAGES = ['prospecting', 'qualification', 'proposal', 'negotiation'];

// ---- entities ----------------------------------------------------------------------------------

/** Versions of account `a`: created, and one in five changed later (owner, size). */
export function accountVersions(w: CrmWorld, a: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.account, a);
  const created = accountCreated(w, a);
  const employees = rand() < 0.04 ? '' : String(Math.max(1, Math.round(logNormal(rand, 120, 1.6))));
  const revenue = rand() < 0.05 || employees === '' ? '' : money(Number(employees) * logNormal(rand, 160_000, 0.5));
  const type = weighted(rand, [['customer', 6], ['prospect', 3], ['partner', 1]] as const);
  const name = `${pick(rand, WORDS)} ${pick(rand, ['GmbH', 'Ltd', 'Inc', 'SA', 'Holdings, Inc'])} ${a}`;
  const base = [accountId(a), name, rand() < 0.05 ? '' : pick(rand, INDUSTRIES), pick(rand, COUNTRIES), employees, revenue, type, pick(rand, OWNERS)];
  const offset = rand() < 0.1;
  const rows: CrmRow[] = [{ updatedMs: created, fields: [...base, isoTime(created, offset), isoTime(created, offset)] }];
  if (rand() < 0.2) {
    const later = Math.min(w.endMs, created + Math.floor(rand() * 200 * DAY_MS));
    const changed = [...base];
    changed[7] = pick(rand, OWNERS);
    rows.push({ updatedMs: later, fields: [...changed, isoTime(created), isoTime(later)] });
  }
  return rows;
}

export function contactVersions(w: CrmWorld, c: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.contact, c);
  const created = contactCreated(w, c);
  // a few contacts name an account the exports never send: reported by the relationships test
  const account = rand() < 0.003 ? `A9${String(c).padStart(5, '0')}` : accountId(accountOf(w, c));
  const first = pick(rand, FIRST);
  const last = pick(rand, LAST);
  const email = rand() < 0.1 ? '' : `${first}.${last || 'x'}${c}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, '');
  const gender = weighted(rand, [['Female', 45], ['Male', 45], ['Non-binary', 3], ['Undisclosed', 2], ['', 5]] as const);
  const income = weighted(rand, [['Low', 35], ['Medium', 40], ['High', 20], ['', 5]] as const);
  const fields = [contactId(c), account, first, last, email, weighted(rand, TITLES), gender, income];
  const rows: CrmRow[] = [{ updatedMs: created, fields: [...fields, isoTime(created), isoTime(created)] }];
  if (rand() < 0.15) {
    const later = Math.min(w.endMs, created + Math.floor(rand() * 300 * DAY_MS));
    const changed = [...fields];
    changed[5] = weighted(rand, TITLES); // promoted, or a new role
    rows.push({ updatedMs: later, fields: [...changed, isoTime(created), isoTime(later)] });
  }
  return rows;
}

/** A product's list price (its orders use it). */
function productPrice(w: CrmWorld, p: number): number {
  return Math.max(1, Math.round(logNormal(rngFor(w.seed, 201, p), 45, 1.1) * 100) / 100);
}

export function productVersions(w: CrmWorld, p: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.product, p);
  const created = Math.floor(w.startMs + rand() * 20 * DAY_MS);
  const price = productPrice(w, p);
  const cost = rand() < 0.03 ? '' : money(price * (0.35 + rand() * 0.4));
  const reorder = 10 + Math.floor(rand() * 40);
  const stock = rand() < 0.05 ? 0 : rand() < 0.12 ? Math.floor(rand() * reorder) : reorder + Math.floor(rand() * 500);
  const fields = [productId(p), `SKU-${p}`, `${pick(rand, WORDS)} ${pick(rand, ['Widget', 'Suite', 'Kit', 'Plan', 'Box', 'Cable'])} ${p}`, pick(rand, CATEGORIES), money(price), cost, String(stock), String(reorder), rand() < 0.95 ? 'true' : 'false'];
  const rows: CrmRow[] = [{ updatedMs: created, fields: [...fields, isoTime(created)] }];
  if (rand() < 0.3) {
    const later = Math.min(w.endMs, created + Math.floor(rand() * (w.endMs - created)));
    const restocked = [...fields];
    restocked[6] = String(Math.floor(rand() * 300));
    rows.push({ updatedMs: later, fields: [...restocked, isoTime(later)] });
  }
  return rows;
}

/**
 * A deal's versions: its stage path from prospecting, one version per step, a few days to weeks
 * apart. One in six steps back a stage once; most reach a close (won or lost); the recent ones
 * are still open.
 */
export function dealVersions(w: CrmWorld, d: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.deal, d);
  const contact = 1 + Math.floor(rand() * w.scale.contacts);
  const created = createdMs(w, KIND.deal, d, contactCreated(w, contact));
  const amount = money(logNormal(rand, 18_000, 0.9));
  const owner = pick(rand, OWNERS);
  const expected = isoDate(created + (30 + Math.floor(rand() * 90)) * DAY_MS);
  const path: string[] = ['prospecting'];
  let stage = 1;
  let wentBack = rand() >= 1 / 6;
  for (let step = 0; step < 8; step++) {
    if (stage === 4 || (stage >= 2 && rand() < 0.25)) {
      path.push(rand() < 0.45 ? 'closed_won' : 'closed_lost');
      break;
    }
    if (!wentBack && stage >= 2 && rand() < 0.5) {
      wentBack = true;
      stage--;
    } else stage++;
    path.push(OPEN_STAGES[stage - 1]!);
  }
  const rows: CrmRow[] = [];
  let at = created;
  for (const [i, s] of path.entries()) {
    if (i > 0) at += Math.floor((2 + rand() * 25) * DAY_MS);
    if (at > w.endMs) break; // the rest of its path lies after the data: still open
    const closed = s.startsWith('closed_');
    rows.push({
      updatedMs: at,
      fields: [dealId(d), accountId(accountOf(w, contact)), contactId(contact), `${pick(rand, WORDS)} deal ${d}`, s, amount, String(STAGE_PROBABILITY[s]), expected, owner, isoTime(created), closed ? isoTime(at) : '', isoTime(at)],
    });
  }
  return rows;
}

export function activityVersions(w: CrmWorld, x: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.activity, x);
  const onDeal = rand() < 0.5;
  const deal = 1 + Math.floor(rand() * w.scale.deals);
  const contact = onDeal ? 1 + Math.floor(rngFor(w.seed, KIND.deal, deal)() * w.scale.contacts) : 1 + Math.floor(rand() * w.scale.contacts);
  const at = createdMs(w, KIND.activity, x, contactCreated(w, contact));
  const type = weighted(rand, [['call', 30], ['email', 35], ['meeting', 15], ['note', 10], ['task', 10]] as const);
  const due = type === 'task' || type === 'meeting' || (type === 'call' && rand() < 0.3) ? at + Math.floor((1 + rand() * 7) * DAY_MS) : undefined;
  const completes = type === 'note' || type === 'email' ? at : due !== undefined && rand() < 0.85 ? due - Math.floor(rand() * 2 * DAY_MS) + Math.floor(rand() * 3 * DAY_MS) : undefined;
  const done = completes !== undefined && completes <= w.endMs ? Math.max(at, completes) : undefined;
  const fields = [activityId(x), type, accountId(accountOf(w, contact)), contactId(contact), onDeal ? dealId(deal) : '', pick(rand, OWNERS), `${type} with ${pick(rand, FIRST)}`, isoTime(at), due === undefined ? '' : isoTime(due)];
  // planned work is exported when planned, and again when completed
  if (done !== undefined && done > at) {
    return [
      { updatedMs: at, fields: [...fields, '', isoTime(at)] },
      { updatedMs: done, fields: [...fields, isoTime(done), isoTime(done)] },
    ];
  }
  return [{ updatedMs: at, fields: [...fields, done === undefined ? '' : isoTime(done), isoTime(at)] }];
}

/**
 * A ticket: answered after a log-normal wait whose median depends on the channel (social is slow),
 * resolved after a heavy-tailed time, rated by about half of the customers (social ones rate lower).
 * Exported when raised, and again when resolved.
 */
export function ticketVersions(w: CrmWorld, t: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.ticket, t);
  const contact = 1 + Math.floor(rand() * w.scale.contacts);
  const created = createdMs(w, KIND.ticket, t, contactCreated(w, contact));
  const channel = weighted(rand, [['email', 40], ['chat', 25], ['phone', 20], ['social', 15]] as const);
  const priority = weighted(rand, [['low', 30], ['medium', 40], ['high', 20], ['urgent', 10]] as const);
  const responseMedianH = { email: 3, chat: 0.5, phone: 1, social: 12 }[channel];
  const responded = created + Math.floor(logNormal(rand, responseMedianH, 0.8) * HOUR_MS);
  const resolved = responded + Math.floor(logNormal(rand, channel === 'social' ? 48 : 18, 1.3) * HOUR_MS);
  const base = channel === 'social' ? 2.6 : 4.2;
  const score = Math.min(5, Math.max(1, Math.round(base + (rand() - 0.5) * 2.4 - (resolved - created > 7 * DAY_MS ? 0.8 : 0))));
  const rated = rand() < 0.55;
  const fields = [ticketId(t), accountId(accountOf(w, contact)), contactId(contact), channel, weighted(rand, ISSUES), priority];
  const rows: CrmRow[] = [];
  const openUntil = resolved <= w.endMs ? resolved : w.endMs;
  if (openUntil > created + HOUR_MS || resolved > w.endMs) {
    const answered = responded <= openUntil - 1000;
    rows.push({ updatedMs: created, fields: [...fields, 'open', isoTime(created), '', '', '', isoTime(created)] });
    if (answered && resolved > w.endMs) rows.push({ updatedMs: responded, fields: [...fields, 'pending', isoTime(created), isoTime(responded), '', '', isoTime(responded)] });
  }
  if (resolved <= w.endMs) {
    rows.push({ updatedMs: resolved, fields: [...fields, 'resolved', isoTime(created), isoTime(responded), isoTime(resolved), rated ? String(score) : '', isoTime(resolved)] });
  }
  return rows;
}

/** Product ids by popularity (Zipf), from a uniform draw. */
function popularProduct(w: CrmWorld, u: number): number {
  const cdf = w.productCdf;
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** The lines of order `o` (one to five), each exported once, in the state it ended in; a tenth also when placed. */
export function orderVersions(w: CrmWorld, o: number): CrmRow[] {
  const rand = rngFor(w.seed, KIND.order, o);
  const contact = 1 + Math.floor(rand() * w.scale.contacts);
  const ordered = createdMs(w, KIND.order, o, contactCreated(w, contact));
  const lines = 1 + Math.floor(rand() * 5);
  const status = weighted(rand, [['delivered', 80], ['shipped', 5], ['processing', 3], ['pending', 2], ['cancelled', 6], ['returned', 4]] as const);
  let shipped = status === 'pending' || status === 'processing' || status === 'cancelled' ? undefined : ordered + Math.floor((0.5 + rand() * 3) * DAY_MS);
  let delivered = shipped !== undefined && (status === 'delivered' || status === 'returned') ? shipped + Math.floor((1 + rand() * 5) * DAY_MS) : undefined;
  let final: string = status;
  if (delivered !== undefined && delivered > w.endMs) [delivered, final] = [undefined, 'shipped'];
  if (shipped !== undefined && shipped > w.endMs) [shipped, final] = [undefined, 'processing'];
  const updated = Math.min(w.endMs, Math.max(ordered, delivered ?? shipped ?? ordered));
  const rows: CrmRow[] = [];
  for (let line = 1; line <= lines; line++) {
    const product = popularProduct(w, rand());
    const quantity = 1 + Math.floor(-Math.log(Math.max(rand(), 1e-9)) * 2);
    const discount = weighted(rand, [['', 60], ['0.05', 20], ['0.1', 15], ['0.2', 5]] as const);
    const fields = [orderId(o), String(line), accountId(accountOf(w, contact)), contactId(contact), productId(product), String(quantity), money(productPrice(w, product)), discount];
    if (updated > ordered && rand() < 0.1) rows.push({ updatedMs: ordered, fields: [...fields, 'pending', isoTime(ordered), '', '', isoTime(ordered)] });
    rows.push({ updatedMs: updated, fields: [...fields, final, isoTime(ordered), shipped === undefined ? '' : isoTime(shipped), delivered === undefined ? '' : isoTime(delivered), isoTime(updated)] });
  }
  return rows;
}

/** How many orders make about `scale.orderLines` lines (three a piece on average). */
export const orderCount = (scale: CrmScale) => Math.max(1, Math.round(scale.orderLines / 3));

/** Every row of one source, entity by entity (versions of an entity together). */
export function* sourceRows(w: CrmWorld, source: CrmSource): Generator<CrmRow> {
  const s = w.scale;
  const [count, versions] = ((): [number, (w: CrmWorld, i: number) => CrmRow[]] => {
    switch (source) {
      case 'crm_accounts':
        return [s.accounts, accountVersions];
      case 'crm_contacts':
        return [s.contacts, contactVersions];
      case 'crm_products':
        return [s.products, productVersions];
      case 'crm_deals':
        return [s.deals, dealVersions];
      case 'crm_activities':
        return [s.activities, activityVersions];
      case 'crm_tickets':
        return [s.tickets, ticketVersions];
      case 'crm_order_lines':
        return [orderCount(s), orderVersions];
    }
  })();
  for (let i = 1; i <= count; i++) yield* versions(w, i);
}

// ---- bad rows ------------------------------------------------------------------------------------

/** One bad row per kind a source's contract refuses: the field it breaks, and the row. */
export function badRow(source: CrmSource, n: number, atMs: number): string[] {
  const t = isoTime(atMs);
  const earlier = isoTime(atMs - DAY_MS);
  switch (source) {
    case 'crm_accounts':
      return n % 2 ? [`ABAD${n}`, 'Bad Type Ltd', 'retail', 'DE', '10', '100.00', 'vip', '', t, t] : [`ABAD${n}`, 'Negative Inc', 'retail', 'DE', '-5', '100.00', 'customer', '', t, t];
    case 'crm_contacts':
      return n % 2 ? [`CBAD${n}`, 'A000001', 'Eve', 'Bad', '', '', 'Female', 'Very high', t, t] : [`CBAD${n}`, 'A000001', 'Eve', 'Bad', '', '', 'Female', 'Low', 'yesterday', t];
    case 'crm_products':
      return [`PBAD${n}`, `SKU-BAD${n}`, 'Bad price', 'Hardware', '12.345', '1.00', '5', '1', 'true', t];
    case 'crm_deals':
      return n % 2 ? [`DBAD${n}`, 'A000001', '', 'Bad odds', 'proposal', '100.00', '150', '', '', t, '', t] : [`DBAD${n}`, 'A000001', '', 'Closed without a date', 'closed_won', '100.00', '100', '', '', t, '', t];
    case 'crm_activities':
      return [`XBAD${n}`, 'fax', 'A000001', '', '', '', '', t, '', '', t];
    case 'crm_tickets':
      return n % 2 ? [`TBAD${n}`, 'A000001', '', 'email', 'billing', 'high', 'resolved', t, '', earlier, '', t] : [`TBAD${n}`, 'A000001', '', 'email', 'billing', 'high', 'resolved', t, '', t, '9', t];
    case 'crm_order_lines':
      return [`OBAD${n}`, '1', 'A000001', '', 'P00001', '1', '10.00', '1.5', 'delivered', t, '', '', t];
  }
}

// ---- the sample: exports over time -----------------------------------------------------------

/**
 * The sample's files in upload order: per source an initial export of everything written before
 * the first cut, then one export per two weeks; the second-to-last two-week export of deals and
 * tickets is uploaded after the last one (late, out of order); a correction export of older
 * versions of a few deals comes last; every file has a bad row or two; the most recent product
 * reaches the exports a file after the first order for it.
 */
export function crmSample(options: SampleOptions & { scale?: CrmScale }): SampleFile[] {
  const scale = options.scale ?? SAMPLE_SCALE;
  const w = crmWorld({ seed: options.seed, endDate: options.endDate, scale });
  const cuts = [6, 4, 2, 0].map((weeksBack) => w.endMs - weeksBack * 7 * DAY_MS);
  const cutNames = cuts.map((ms) => isoDate(ms));
  const files: SampleFile[] = [];
  const late: SampleFile[] = [];
  const lateProduct = scale.products;

  for (const source of CRM_SOURCES) {
    const buckets: CrmRow[][] = cuts.map(() => []);
    for (const row of sourceRows(w, source)) {
      let k = cuts.findIndex((cut) => row.updatedMs <= cut);
      if (k < 0) k = cuts.length - 1;
      // the late product: its first version waits for the export after its first orders
      if (source === 'crm_products' && row.fields[0] === productId(lateProduct)) k = cuts.length - 1;
      buckets[k]!.push(row);
    }
    if (source === 'crm_order_lines') {
      // an order for the late product in the export before the product arrives
      const at = cuts[cuts.length - 2]! - DAY_MS;
      buckets[cuts.length - 2]!.push({ updatedMs: at, fields: ['O9000001', '1', accountId(accountOf(w, 1)), contactId(1), productId(lateProduct), '2', money(productPrice(w, lateProduct)), '', 'delivered', isoTime(at - 2 * DAY_MS), isoTime(at - 2 * DAY_MS + HOUR_MS), isoTime(at), isoTime(at)] });
    }
    buckets.forEach((rows, k) => {
      const name = k === 0 ? `${source}_initial_${cutNames[0]}.csv` : `${source}_${cutNames[k - 1]}_to_${cutNames[k]}.csv`;
      const lines = rows.map((r) => r.fields);
      // bad rows at fixed places, so the quarantine has something to show
      const bad = [badRow(source, 2 * k + 1, cuts[k]! - DAY_MS), badRow(source, 2 * k + 2, cuts[k]! - DAY_MS)];
      lines.splice(Math.min(lines.length, 3), 0, bad[0]!);
      lines.push(bad[1]!);
      const content = HEADERS[source].join(',') + '\n' + lines.map(csvLine).join('');
      const file = { source, name, content };
      // deals and tickets: the third export arrives after the fourth
      if ((source === 'crm_deals' || source === 'crm_tickets') && k === cuts.length - 2) late.push(file);
      else files.push(file);
    });
  }
  files.push(...late);

  // a correction export: an earlier version of a few deals, written before the versions already
  // received (it splits their stage periods, and does not change their current state)
  const corrections: string[][] = [];
  for (let d = 1; corrections.length < 3 && d <= scale.deals; d++) {
    const versions = dealVersions(w, d);
    if (versions.length < 3) continue;
    const [first, second] = [versions[0]!, versions[1]!];
    const between = Math.floor((first.updatedMs + second.updatedMs) / 2);
    if (second.updatedMs - first.updatedMs < 2 * DAY_MS) continue;
    const f = [...first.fields];
    f[4] = 'qualification';
    f[6] = String(STAGE_PROBABILITY.qualification);
    f[11] = isoTime(between);
    corrections.push(f);
  }
  files.push({ source: 'crm_deals', name: `crm_deals_correction_${cutNames[cutNames.length - 1]}.csv`, content: HEADERS.crm_deals.join(',') + '\n' + corrections.map(csvLine).join('') });
  return files;
}

// ---- one day's exports (the benchmark's incremental run) -------------------------------------------

/**
 * The exports of the day after the world's history: per source the entities created that day (about
 * a day's share of each count, new ids after the world's) and new versions of existing ones
 * (deals moving a stage, tickets resolved, activities completed, contacts and accounts edited,
 * order lines delivered), every updated_at within that day.
 */
export function dayExports(w: CrmWorld, day: IsoDate): Record<CrmSource, CrmRow[]> {
  const dayStart = Date.parse(`${day}T00:00:00Z`);
  // a world that is only that day: what it creates, it creates that day
  const today: CrmWorld = { ...w, startMs: dayStart, endMs: dayStart + DAY_MS - 1000 };
  const s = w.scale;
  const perDay = (n: number) => Math.max(1, Math.ceil(n / s.days));
  const rand = prng(w.seed ^ 0xda7);
  const at = () => dayStart + Math.floor(rand() * (DAY_MS - 1000));
  const existing = (n: number) => 1 + Math.floor(rand() * n);
  const fresh = (count: number, first: number, versions: (w: CrmWorld, i: number) => CrmRow[]) =>
    Array.from({ length: count }, (_, i) => versions(today, first + i)).flat();
  /** The latest version of an existing entity, written again that day with `change` applied. */
  const again = (rows: CrmRow[], change: (f: string[], when: string) => void): CrmRow[] => {
    const last = rows[rows.length - 1];
    if (!last) return [];
    const when = at();
    const fields = [...last.fields];
    change(fields, isoTime(when));
    fields[fields.length - 1] = isoTime(when);
    return [{ updatedMs: when, fields }];
  };
  const times = (n: number, f: () => CrmRow[]) => Array.from({ length: n }, f).flat();

  return {
    crm_accounts: [...fresh(perDay(s.accounts), s.accounts + 1, accountVersions), ...times(perDay(s.accounts) >> 1, () => again(accountVersions(w, existing(s.accounts)), (f) => (f[7] = pick(rand, OWNERS))))],
    crm_contacts: [...fresh(perDay(s.contacts), s.contacts + 1, contactVersions), ...times(perDay(s.contacts) >> 1, () => again(contactVersions(w, existing(s.contacts)), (f) => (f[5] = weighted(rand, TITLES))))],
    crm_products: times(perDay(s.products), () => again(productVersions(w, existing(s.products)), (f) => (f[6] = String(Math.floor(rand() * 300))))),
    crm_deals: [
      ...fresh(perDay(s.deals), s.deals + 1, dealVersions),
      // open deals move a stage on; closed ones get an amount correction
      ...times(perDay(s.deals) * 3, () =>
        again(dealVersions(w, existing(s.deals)), (f, when) => {
          const i = OPEN_STAGES.indexOf(f[4]!);
          if (i < 0) f[5] = money(Number(f[5]) * 1.01);
          else if (i === OPEN_STAGES.length - 1) [f[4], f[6], f[10]] = ['closed_won', '100', when];
          else [f[4], f[6]] = [OPEN_STAGES[i + 1]!, String(STAGE_PROBABILITY[OPEN_STAGES[i + 1]!])];
        }),
      ),
    ],
    crm_activities: [...fresh(perDay(s.activities), s.activities + 1, activityVersions), ...times(perDay(s.activities) >> 2, () => again(activityVersions(w, existing(s.activities)), (f, when) => (f[9] ||= when)))],
    crm_tickets: [
      ...fresh(perDay(s.tickets), s.tickets + 1, ticketVersions),
      ...times(perDay(s.tickets), () =>
        again(ticketVersions(w, existing(s.tickets)), (f, when) => {
          f[6] = 'closed';
          f[8] ||= when;
          f[9] ||= when;
        }),
      ),
    ],
    crm_order_lines: [
      ...fresh(perDay(orderCount(s)), orderCount(s) + 1, orderVersions),
      ...times(perDay(s.orderLines) >> 1, () =>
        again(orderVersions(w, existing(orderCount(s))), (f, when) => {
          // delivered today, unless it was cancelled or returned
          if (f[8] === 'cancelled' || f[8] === 'returned') return;
          f[10] ||= when;
          f[11] ||= when;
          f[8] = 'delivered';
        }),
      ),
    ],
  };
}
