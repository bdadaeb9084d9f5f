/**
 * The seven CRM export contracts: what a good row becomes (typed, trimmed, in UTC), what makes a row
 * bad (with its field and reason), what does not (an unknown parent id), and end to end that every
 * row of a file lands in bronze or in quarantine with its file, line, field and reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sqlTimestampText } from '../functions/core/context.js';
import { crmAccounts, crmActivities, crmContacts, crmDeals, crmOrderLines, crmProducts, crmTickets } from '../functions/domains/crm_warehouse/sources/index.js';
import { HEADERS } from '../functions/domains/crm_warehouse/sample.js';
import { DEFAULT_DATE_WINDOW, enumLookup, normaliseTimestamp, parseDecimal } from '../functions/sources/contract.js';
import type { UploadSource } from '../functions/sources/uploadSource.js';
import { jsonLines, readBlobText, resetStorage, startTestStorage, testContext, type TestStorage } from './support/pipeline.js';
import { DEFAULTS } from './support/crm.js';
import { DuckDbWarehouse } from '../functions/warehouse/duckdb/duckdbWarehouse.js';
import { WAREHOUSE_SCHEMA } from '../functions/domains/registry.js';
import { afterAll, beforeAll } from 'vitest';
import type { QuarantineRecord } from '../functions/ingest/uploadIngest.js';
import { uploadCrm } from './support/crm.js';

const FILE = { arrivalDate: '2024-03-01', window: DEFAULT_DATE_WINDOW };

/** Validates one row given as an object over the source's header (defaults for the rest). */
function check(source: UploadSource, row: Record<string, string>) {
  const header = HEADERS[source.name as keyof typeof HEADERS];
  const defaults = DEFAULTS[source.name as keyof typeof DEFAULTS];
  return source.openFile([...header], FILE).validateRow(header.map((h) => row[h] ?? defaults[h] ?? ''));
}

describe('CRM export contracts', () => {
  it('turn a good row into canonical values: trimmed, typed, timestamps in UTC, empty optional values null', () => {
    expect(check(crmAccounts, { account_id: ' A1 ', account_type: 'Customer', employee_count: '', annual_revenue: '12000000.5', created_at: '2024-01-01T10:00:00+01:00', updated_at: '2024-02-01 23:30:00-02:00' })).toEqual({
      businessDate: '2024-02-02', // 23:30 at -02:00 is the next day in UTC
      values: {
        account_id: 'A1',
        account_name: 'Acme',
        industry: 'software',
        country: 'DE',
        employee_count: null,
        annual_revenue: '12000000.5',
        account_type: 'customer', // enums match case-insensitively and land as declared
        owner: 'Ana',
        created_at: '2024-01-01 09:00:00.000',
        updated_at: '2024-02-02 01:30:00.000',
      },
    });
    expect(check(crmProducts, { product_id: 'P1', is_active: 'no', unit_cost: '' })).toMatchObject({ values: { is_active: false, unit_cost: null, stock_quantity: 100 } });
    expect(check(crmOrderLines, { order_id: 'O1', discount: '0.15', quantity: '3' })).toMatchObject({ values: { discount: '0.15', quantity: 3, line_number: 1 } });
  });

  it('refuse each kind of bad value with the field and the reason', () => {
    const bad: [UploadSource, Record<string, string>, string, RegExp][] = [
      [crmAccounts, { account_id: 'A1', account_type: 'vip' }, 'account_type', /not one of "customer", "prospect", "partner": "vip"/],
      [crmAccounts, { account_id: 'A1', employee_count: '-5' }, 'employee_count', /less than 0: -5/],
      [crmAccounts, { account_id: 'A1', created_at: '2024-01-02T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' }, 'updated_at', /updated_at 2024-01-01 00:00:00.000 is before created_at 2024-01-02 00:00:00.000/],
      [crmContacts, { contact_id: 'C1', income_segment: 'Very high' }, 'income_segment', /not one of "Low", "Medium", "High"/],
      [crmContacts, { contact_id: 'C1', created_at: 'yesterday' }, 'created_at', /not an ISO 8601 date or date-time: "yesterday"/],
      [crmProducts, { product_id: 'P1', unit_price: '12.345' }, 'unit_price', /more than 2 decimal places/],
      [crmProducts, { product_id: 'P1', is_active: 'maybe' }, 'is_active', /not true or false/],
      [crmDeals, { deal_id: 'D1', probability: '150' }, 'probability', /greater than 100: 150/],
      [crmDeals, { deal_id: 'D1', stage: 'closed_won' }, 'closed_at', /empty, but the stage is closed_won/],
      [crmDeals, { deal_id: 'D1', stage: 'proposal', closed_at: '2024-01-05T00:00:00Z' }, 'closed_at', /given, but the stage proposal is open/],
      [crmDeals, { deal_id: 'D1', amount: '-1.00' }, 'amount', /less than 0/],
      [crmActivities, { activity_id: 'X1', activity_type: 'fax' }, 'activity_type', /not one of "call", "email"/],
      [crmTickets, { ticket_id: 'T1', created_at: '2024-01-02T00:00:00Z', resolved_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-02T00:00:00Z' }, 'resolved_at', /resolved_at 2024-01-01 00:00:00.000 is before created_at/],
      [crmTickets, { ticket_id: 'T1', csat_score: '9' }, 'csat_score', /greater than 5: 9/],
      [crmTickets, { ticket_id: 'T1', channel: 'fax' }, 'channel', /not one of "email", "chat", "phone", "social"/],
      [crmOrderLines, { order_id: 'O1', discount: '1.5' }, 'discount', /greater than 1: 1.5/],
      [crmOrderLines, { order_id: 'O1', quantity: '0' }, 'quantity', /less than 1: 0/],
      [crmOrderLines, { order_id: 'O1', ordered_at: '2024-01-05T00:00:00Z', shipped_at: '2024-01-04T00:00:00Z', updated_at: '2024-01-05T00:00:00Z' }, 'shipped_at', /before ordered_at/],
      // a date far ahead of the file's arrival (2024-03-01), and a close date ten years ahead that is fine
      [crmTickets, { ticket_id: 'T1', updated_at: '2024-03-05T00:00:00Z' }, 'updated_at', /is after 2024-03-02 \(1 day after the day the file arrived\)/],
    ];
    for (const [source, row, field, reason] of bad) {
      const result = check(source, row);
      expect(result, `${source.name} ${JSON.stringify(row)}`).toMatchObject({ field });
      expect((result as { reason: string }).reason, `${source.name} ${JSON.stringify(row)}`).toMatch(reason);
    }
    expect(check(crmDeals, { deal_id: 'D1', expected_close_date: '2033-12-31' })).toMatchObject({ values: { expected_close_date: '2033-12-31' } });
  });

  it('accept a row whose parent id no export has sent (yet): a relationships test reports it later', () => {
    expect(check(crmContacts, { contact_id: 'C1', account_id: 'A404' })).toMatchObject({ values: { account_id: 'A404' } });
    expect(check(crmOrderLines, { order_id: 'O1', product_id: 'P404' })).toMatchObject({ values: { product_id: 'P404' } });
  });

  it('keep every version of an id: a repeated id is a later version, not a bad row', () => {
    const file = crmDeals.openFile([...HEADERS.crm_deals], FILE);
    const row = (stage: string, updated: string) => HEADERS.crm_deals.map((h) => ({ deal_id: 'D1', stage, updated_at: updated })[h as 'deal_id'] ?? DEFAULTS.crm_deals[h] ?? '');
    expect(file.validateRow(row('prospecting', '2024-01-01T09:00:00Z'))).toHaveProperty('values');
    expect(file.validateRow(row('proposal', '2024-01-05T09:00:00Z'))).toHaveProperty('values');
  });
});

describe('timestamps already in UTC (the common case in exports)', () => {
  // what Date.parse makes of the text: the path every other timestamp takes
  const viaDate = (v: string) => {
    const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`);
    return Number.isNaN(ms) ? undefined : sqlTimestampText(new Date(ms));
  };

  it('are rearranged without a Date, to the same text Date.parse gives', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const timestamp = fc
      .record({
        y: fc.integer({ min: 1990, max: 2100 }).map(String),
        mo: two(13),
        d: two(32),
        h: two(25),
        mi: two(61),
        s: fc.option(two(61), { nil: undefined }),
        frac: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
        sep: fc.constantFrom('T', ' '),
        zone: fc.constantFrom('', 'Z', 'z', '+00:00', '-00:00', '+0000', '+02:00'),
      })
      .map(({ y, mo, d, h, mi, s, frac, sep, zone }) => `${y}-${mo}-${d}${sep}${h}:${mi}${s === undefined ? '' : `:${s}${frac === undefined ? '' : `.${frac}`}`}${zone}`);
    fc.assert(fc.property(timestamp, (v) => normaliseTimestamp(v) === viaDate(v)), { numRuns: 5000 });
    // a date-time has always gone through Date.parse, which rolls Feb 31 over into March; unchanged
    expect(normaliseTimestamp('2024-02-31T10:00:00')).toBe(viaDate('2024-02-31T10:00:00'));
    expect(normaliseTimestamp('2024-02-29T23:59:59.9999Z')).toBe('2024-02-29 23:59:59.999');
    expect(normaliseTimestamp('2024-01-01T24:00:00Z')).toBe('2024-01-02 00:00:00.000'); // ISO's end of day: the slow path
  });
});

describe('decimals and enums as exports write them (checked without a regular expression)', () => {
  // the general rule, as it was before the canonical text got its own path
  const general = (v: string, t: { precision: number; scale: number; min?: number; max?: number }) => {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(v);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
    const whole = m[2]!.replace(/^0+(?=\d)/, '') || '0';
    const fraction = m[3] ?? '';
    if (fraction.length > t.scale) return { reason: `more than ${t.scale} decimal places: "${v}"` };
    if ((whole === '0' ? 0 : whole.length) > t.precision - t.scale) return { reason: `more than ${t.precision - t.scale} digits before the point: "${v}"` };
    const text = `${m[1] === '-' && /[1-9]/.test(whole + fraction) ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
    const n = Number(text);
    if (t.min !== undefined && n < t.min) return { reason: `less than ${t.min}: ${text}` };
    if (t.max !== undefined && n > t.max) return { reason: `greater than ${t.max}: ${text}` };
    return { text };
  };

  it('a decimal parses as the general rule says, canonical or not', () => {
    const text = fc.stringMatching(/^[+-]?0{0,2}\d{0,7}(\.\d{0,5})?$/);
    const type = fc.record({ precision: fc.integer({ min: 1, max: 12 }), scale: fc.integer({ min: 0, max: 4 }), min: fc.option(fc.constantFrom(0, 1, 100), { nil: undefined }), max: fc.option(fc.constantFrom(1, 1000), { nil: undefined }) })
      .filter((t) => t.scale <= t.precision)
      .map(({ min, max, ...t }) => ({ ...t, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) }));
    fc.assert(fc.property(text, type, (v, t) => {
      expect(parseDecimal(v, t)).toEqual(general(v, t));
    }), { numRuns: 5000 });
    for (const v of ['0', '0.5', '10.00', '007', '.5', '5.', '-0.00', '1234567.89']) expect(parseDecimal(v, { precision: 10, scale: 2 })).toEqual(general(v, { precision: 10, scale: 2 }));
  });

  it('an enum value matches case-insensitively and lands as declared', () => {
    const lookup = enumLookup(['call', 'Email', 'meeting']);
    expect(['call', 'CALL', 'email', 'Email', 'EMAIL', 'Meeting', 'calls', ''].map(lookup)).toEqual(['call', 'call', 'Email', 'Email', 'Email', 'meeting', undefined, undefined]);
  });
});

describe('a CRM export end to end', () => {
  let storage: TestStorage;
  let warehouse: DuckDbWarehouse;
  beforeAll(async () => {
    storage = await startTestStorage();
    warehouse = await DuckDbWarehouse.open(':memory:', { schema: WAREHOUSE_SCHEMA });
  });
  afterAll(async () => {
    await warehouse.close();
    await storage.azurite.stop();
  });

  it('lands the good rows, quarantines the bad ones with file, line, field and reason, and counts both', async () => {
    await resetStorage(storage.storage);
    const ctx = testContext({ storage, warehouse });
    const outcome = await uploadCrm(ctx, storage, 'crm_tickets', 'tickets.csv', [
      { ticket_id: 'T1' }, // line 2
      { ticket_id: 'T2', csat_score: 'five' }, // line 3: bad
      { ticket_id: 'T3', account_id: 'A404' }, // line 4: an unknown account is fine
      { ticket_id: 'T1', status: 'pending', updated_at: '2024-01-02T09:00:00Z' }, // line 5: a later version of T1
      { ticket_id: 'T4', priority: 'critical' }, // line 6: bad
    ]);
    expect(outcome).toMatchObject({ status: 'loaded', rowsTotal: 5, rowsAccepted: 3, rowsQuarantined: 2 });
    if (outcome.status !== 'loaded') throw new Error('not loaded');
    const rejected = jsonLines<QuarantineRecord>(await readBlobText(storage.storage, 'quarantine', outcome.quarantineFile!.replace(/^quarantine\//, '')));
    expect(rejected.map((r) => [r.file, r.line, r.field])).toEqual([
      ['landing/crm_tickets/tickets.csv', 3, 'csat_score'],
      ['landing/crm_tickets/tickets.csv', 6, 'priority'],
    ]);
    expect(rejected[0]!.reason).toMatch(/not an integer: "five"/);
    const [ingest] = await warehouse.query(`SELECT rows_total, rows_accepted, rows_quarantined FROM ops.file_ingests`);
    expect(ingest).toEqual({ rows_total: 5, rows_accepted: 3, rows_quarantined: 2 });
    const bronze = jsonLines<Record<string, unknown>>(await readBlobText(storage.storage, 'bronze', outcome.bronzeFile.replace(/^bronze\//, '')));
    expect(bronze.map((r) => [r.ticket_id, r.status, r._row_number])).toEqual([
      ['T1', 'open', 2],
      ['T3', 'open', 4],
      ['T1', 'pending', 5],
    ]);
  });
});
