/**
 * Source contracts: the declarations, and the checks and schema-drift findings derived from them.
 * Pure functions only (no storage, no warehouse): the ingest suites cover the same paths end to end.
 */
import { describe, expect, it } from 'vitest';
import { boolean, date, decimal, DEFAULT_DATE_WINDOW, defineContract, inferTextType, MAX_INT32, oneOf, within, integer, isChangedType, text, timestamp, UniqueKeys } from '../functions/sources/contract.js';
import { crmCompanyDaily } from '../functions/domains/company_activity/sources/crmCompanyDaily.js';
import { csvUploadSource } from '../functions/sources/csvContract.js';
import { compileJsonContract } from '../functions/sources/jsonContract.js';
import { MAX_ACTIVE_USERS, MAX_EVENTS, openUsagePull, usageContract, usageRecordSchema, validateUsageRecord, WIDEST_USAGE_WINDOW_DAYS } from '../functions/domains/company_activity/sources/productUsage/contract.js';
import { ALL_TABLES, BRONZE_SOURCES, tableNamed, UPLOAD_SOURCES } from '../functions/domains/registry.js';
import type { FileContext } from '../functions/sources/uploadSource.js';
import { loadSettings } from '../functions/core/settings.js';
import { MAX_SOURCE_FILE_CHARS } from '../functions/storage/blobStore.js';

const NO_CHECKS = { freshness: { warnAfterHours: 24, errorAfterHours: 48 }, tests: [] };

const FILE: FileContext = { arrivalDate: '2024-03-01', window: DEFAULT_DATE_WINDOW };
const LIMITS = { window: DEFAULT_DATE_WINDOW, anchor: '2025-01-01', anchorMeans: 'the requested date' };
const CRM_HEADER = ['company_id', 'name', 'country', 'industry_tag', 'last_contact_at', 'snapshot_date'];

describe('upload source declarations', () => {
  it('declare the columns of their bronze table, a key of declared columns and a date (or timestamp) business date', () => {
    for (const source of UPLOAD_SOURCES) {
      const declared = Object.entries(source.contract.columns);
      const dataColumns = source.bronzeTable.columns.filter((c) => !c.name.startsWith('_'));
      expect(declared.map(([name]) => name), source.name).toEqual(dataColumns.map((c) => c.name));
      expect(source.bronzeTable.columns.map((c) => c.name)).toContain('_extra_columns');
      for (const [name, spec] of declared) {
        const column = dataColumns.find((c) => c.name === name)!;
        // bronze holds canonical text: a declared text column must fit, as must a timestamp / date text
        // text(n) counts code points; NVARCHAR counts UTF-16 units, up to two per code point
        const needed = spec.type.kind === 'text' ? 2 * spec.type.maxLength : spec.type.kind === 'timestamp' ? 23 : spec.type.kind === 'date' ? 10 : 20;
        if (column.type.kind === 'string' && column.type.length !== undefined) expect(column.type.length, `${source.name}.${name}`).toBeGreaterThanOrEqual(needed);
        // a column bronze requires can be neither empty nor absent without a default
        if (!column.nullable) expect(Boolean(spec.nullable) || (Boolean(spec.optional) && !spec.whenAbsent), `${source.name}.${name}`).toBe(false);
      }
      expect(source.key.every((k) => k in source.contract.columns)).toBe(true);
      expect(['date', 'timestamp'], source.name).toContain(source.contract.columns[source.businessDate]?.type.kind);
      expect(BRONZE_SOURCES).toContainEqual({ name: source.name, table: source.bronzeTable, dateColumn: source.businessDate, checks: source.checks, arrives: `CSV uploads to landing/${source.name}/` });
    }
    expect(crmCompanyDaily.requiredColumns).toEqual(['company_id', 'name', 'country', 'industry_tag', 'last_contact_at']);
    expect(crmCompanyDaily.optionalColumns).toEqual(['snapshot_date']);
    expect(crmCompanyDaily.key).toEqual(['company_id', 'snapshot_date']);
    expect(crmCompanyDaily.bronzeTable).toBe(tableNamed('bronze.crm_company_daily'));
  });

  it('refuse a business date that is not a non-nullable date or timestamp column', () => {
    const contract = defineContract<FileContext>()({
      source: 'bad_source',
      columns: { id: { type: text(10), description: 'id' }, day: { type: text(10), description: 'not a date' } },
      key: ['id'],
      duplicateKeys: 'keep',
    });
    expect(() => csvUploadSource(contract, { bronzeTable: tableNamed('bronze.crm_company_daily'), businessDate: 'day', checks: NO_CHECKS })).toThrow(/business date "day" must be a non-nullable date or timestamp column/);
  });

  it('take a timestamp business date as its UTC date (an incremental export\'s updated_at)', () => {
    const contract = defineContract<FileContext>()({
      source: 'changes',
      columns: { id: { type: text(10), description: 'id' }, updated_at: { type: timestamp, description: 'last change' } },
      key: ['id'],
      duplicateKeys: 'keep',
    });
    const file = csvUploadSource(contract, { bronzeTable: tableNamed('bronze.crm_company_daily'), businessDate: 'updated_at', checks: NO_CHECKS }).openFile(['id', 'updated_at'], FILE);
    // 23:30 at -02:00 is the next day in UTC
    expect(file.validateRow(['a', '2024-02-01T23:30:00-02:00'])).toEqual({ businessDate: '2024-02-02', values: { id: 'a', updated_at: '2024-02-02 01:30:00.000' } });
  });
});

describe('headers written otherwise, ignored columns and a timestamp business date', () => {
  // a pandas export: an index column first (headed "" or "Unnamed: 0"), headers with spaces
  const contract = defineContract<FileContext>()({
    source: 'shop_sales',
    columns: {
      sold_at: { type: timestamp, header: 'Date', description: 'a date or a date-time; the business date is its UTC date' },
      customer_id: { type: text(10), header: 'Customer ID', description: 'written "Customer ID" in the file' },
      amount: { type: decimal(10, 2), header: ' SALES ', description: 'matched trimmed and case-insensitively, like every header' },
    },
    key: ['customer_id'],
    duplicateKeys: 'keep',
  });
  const source = csvUploadSource(contract, { businessDate: 'sold_at', checks: NO_CHECKS, ignoreColumns: ['', 'Unnamed: 0'] });

  it('finds a column under its header, spaces included, and lands it under its name', () => {
    expect(source.requiredColumns).toEqual(['Date', 'Customer ID', ' SALES ']);
    const file = source.openFile(['', 'date', 'customer id', 'sales'], FILE);
    expect(file.missingRequired).toEqual([]);
    expect(file.extraColumns).toEqual([]);
    // 23:30 at -05:00 is 04:30 UTC the next day: that day is the business date
    expect(file.validateRow(['0', '2024-02-01T23:30:00-05:00', 'K1', '12.5'])).toEqual({
      businessDate: '2024-02-02',
      values: { sold_at: '2024-02-02 04:30:00.000', customer_id: 'K1', amount: '12.5' },
    });
    expect(file.validateRow(['1', '2024-02-01', 'K1', '3'])).toMatchObject({ businessDate: '2024-02-01', values: { sold_at: '2024-02-01 00:00:00.000' } });
    expect(file.drift()).toEqual([]);
  });

  it('drops the ignored columns whichever name they carry, and nothing else', () => {
    const file = source.openFile(['unnamed: 0', 'date', 'customer id', 'sales', 'store'], FILE);
    expect(file.extraColumns).toEqual([{ name: 'store', index: 4 }]);
    expect(file.validateRow(['7', '2024-02-01', 'K2', '1', 'Berlin'])).toMatchObject({ values: { customer_id: 'K2' } });
    expect(file.drift().map((f) => [f.kind, f.column])).toEqual([['new_column', 'store']]);
  });

  it('matches a header as written: without its space it is another column', () => {
    const file = source.openFile(['date', 'customerid', 'sales'], FILE);
    expect(file.missingRequired).toEqual(['Customer ID']);
    expect(file.extraColumns).toEqual([{ name: 'customerid', index: 1 }]);
  });

  it('still rejects a header that repeats a name, an ignored one too', () => {
    expect(source.openFile(['', '', 'date', 'customer id', 'sales'], FILE).repeated).toEqual(['']);
  });

  it('refuses declarations that could not be read unambiguously', () => {
    const twice = defineContract<FileContext>()({
      source: 'twice',
      columns: { a: { type: text(5), header: 'B', description: 'a' }, b: { type: date, description: 'b' } },
      key: ['a'],
      duplicateKeys: 'keep',
    });
    expect(() => csvUploadSource(twice, { businessDate: 'b', checks: NO_CHECKS })).toThrow(/two columns are read from the header "b"/);
    expect(() => csvUploadSource(contract, { businessDate: 'sold_at', checks: NO_CHECKS, ignoreColumns: ['date'] })).toThrow(/"date" is both a declared column and ignored/);
  });
});

describe('the CRM row check, derived from the contract', () => {
  const file = crmCompanyDaily.openFile(CRM_HEADER, FILE);
  const row = (fields: string[]) => file.validateRow(fields);

  it('accepts a good row: values trimmed, timestamps normalised to UTC, empty optional attributes null', () => {
    expect(row([' C1 ', 'Acme', 'DE', 'saas', '2024-01-02T11:00:00+01:00', '2024-02-01'])).toEqual({
      businessDate: '2024-02-01',
      values: { company_id: 'C1', name: 'Acme', country: 'DE', industry_tag: 'saas', last_contact_at: '2024-01-02 10:00:00.000', snapshot_date: '2024-02-01' },
    });
    expect(row(['C2', 'Globex', '', '', '', '2024-02-01'])).toMatchObject({ values: { country: null, industry_tag: null, last_contact_at: null } });
  });

  it('names the first failing field in declaration order, with its reason', () => {
    expect(row(['', 'Acme', 'DE', '', '', '2024-02-01'])).toEqual({ field: 'company_id', reason: 'empty' });
    expect(row(['C1', '  ', 'DE', '', '', '2024-02-01'])).toEqual({ field: 'name', reason: 'empty' });
    expect(row(['C1', 'x'.repeat(201), 'DE', '', 'never', '2024-02-31'])).toEqual({ field: 'name', reason: 'longer than 200 characters (201)' });
    expect(row(['C1', 'Acme', 'DE', '', 'never', '2024-02-01'])).toEqual({ field: 'last_contact_at', reason: 'not an ISO 8601 date or date-time: "never"' });
    expect(row(['C1', 'Acme', 'DE', '', '', '2024-02-31'])).toEqual({ field: 'snapshot_date', reason: 'not a date as YYYY-MM-DD: "2024-02-31"' });
    expect(row(['C1', 'Acme', 'DE', '', '', ''])).toEqual({ field: 'snapshot_date', reason: 'empty' });
  });

  it('gives rows of a file without snapshot_date the arrival date', () => {
    const noDate = crmCompanyDaily.openFile(CRM_HEADER.slice(0, 5), FILE);
    expect(noDate.validateRow(['C1', 'Acme', 'DE', 'saas', ''])).toMatchObject({ businessDate: '2024-03-01', values: { snapshot_date: '2024-03-01' } });
  });
});

describe('the CSV header against the contract', () => {
  it('finds missing required and repeated columns (the file is rejected), new and missing optional ones (drift)', () => {
    const header = ['company_id', 'name', 'country', 'last_contact_at', 'industry', 'owner', 'owner'];
    const file = crmCompanyDaily.openFile(header, FILE);
    expect(file.missingRequired).toEqual(['industry_tag']);
    expect(file.repeated).toEqual(['owner']);
    expect(file.extraColumns).toEqual([
      { name: 'industry', index: 4 },
      { name: 'owner', index: 5 },
    ]);
    expect(file.drift().map((f) => [f.kind, f.column, f.expected])).toEqual([
      ['new_column', 'industry', undefined],
      ['new_column', 'owner', undefined],
      ['missing_optional_column', 'snapshot_date', 'date'],
    ]);
  });

  it('finds nothing in a file that matches the contract', () => {
    const file = crmCompanyDaily.openFile(CRM_HEADER, FILE);
    file.validateRow(['C1', 'Acme', 'DE', 'saas', '', '2024-02-01']);
    expect(file.missingRequired).toEqual([]);
    expect(file.drift()).toEqual([]);
  });
});

describe('changed types', () => {
  it('need at least one failing value, and at least half of the non-empty values failing', () => {
    expect(isChangedType(0, 0)).toBe(false);
    expect(isChangedType(0, 10)).toBe(false);
    expect(isChangedType(1, 3)).toBe(false);
    expect(isChangedType(2, 4)).toBe(true);
    expect(isChangedType(1, 1)).toBe(true);
  });

  it('are found over a whole CSV file, empty values aside, with the type the values have instead', () => {
    const file = crmCompanyDaily.openFile(CRM_HEADER, FILE);
    const rows = [
      ['C1', 'A', '', '', '2024-02-01', '01/02/2024'],
      ['C2', 'B', '', '', '', '02/02/2024'],
      ['C3', 'C', '', '', '', '2024-02-03'],
      ['C4', 'D', '', '', '', ''],
    ];
    const results = rows.map((r) => file.validateRow(r));
    expect(results.filter((r) => 'reason' in r)).toHaveLength(3); // two dates in another format, one empty
    expect(file.drift()).toEqual([
      expect.objectContaining({ kind: 'changed_type', column: 'snapshot_date', expected: 'date', observed: 'text', example: '01/02/2024' }),
    ]);
  });

  it('are counted on every column of a bad row, not only its first failing one', () => {
    const file = crmCompanyDaily.openFile(CRM_HEADER, FILE);
    file.validateRow(['', 'A', '', '', '1706868000', '2024-02-01']); // bad for company_id first
    expect(file.drift().map((f) => [f.column, f.observed])).toEqual([['last_contact_at', 'integer']]);
  });

  it('infer what text holds: integer, number, date, timestamp, boolean, text', () => {
    expect(['1706868000', '-3', '1.5', '1e3', '2024-02-01', '2024-02-31', '2024-02-01T10:00Z', 'TRUE', 'yesterday'].map(inferTextType)).toEqual([
      'integer', 'integer', 'number', 'number', 'date', 'text', 'timestamp', 'boolean', 'text',
    ]);
  });
});

describe('a new CSV source is one declaration', () => {
  const contract = defineContract<FileContext>()({
    source: 'crm_contact_daily',
    columns: {
      contact_id: { type: text(20), description: 'contact id' },
      seats: { type: integer({ min: 1, max: 1000 }), nullable: true, description: 'licensed seats' },
      contacted_at: { type: timestamp, description: 'when' },
      day: { type: date, optional: true, whenAbsent: (f) => f.arrivalDate, description: 'the day' },
      note: { type: text(5), optional: true, nullable: true, description: 'optional note, absent: null' },
    },
    key: ['contact_id', 'day'],
    duplicateKeys: 'reject',
    rules: [{ field: 'seats', description: 'even seats only', check: (r) => (r.seats !== null && r.seats % 2 === 1 ? `odd: ${r.seats}` : undefined) }],
  });
  const source = csvUploadSource(contract, { bronzeTable: tableNamed('bronze.crm_company_daily'), businessDate: 'day', checks: NO_CHECKS });

  it('gets its type, range, rule and duplicate-key checks from it', () => {
    expect(source.requiredColumns).toEqual(['contact_id', 'seats', 'contacted_at']);
    const file = source.openFile(['contact_id', 'seats', 'contacted_at'], FILE);
    expect(file.validateRow(['K1', '4', '2024-02-01'])).toEqual({
      businessDate: '2024-03-01',
      values: { contact_id: 'K1', seats: 4, contacted_at: '2024-02-01 00:00:00.000', day: '2024-03-01', note: null },
    });
    expect(file.validateRow(['K2', 'four', '2024-02-01'])).toEqual({ field: 'seats', reason: 'not an integer: "four"' });
    expect(file.validateRow(['K2', '0', '2024-02-01'])).toEqual({ field: 'seats', reason: 'less than 1: 0' });
    expect(file.validateRow(['K2', '3', '2024-02-01'])).toEqual({ field: 'seats', reason: 'odd: 3' });
    expect(file.validateRow(['K2', '', '2024-02-01'])).toMatchObject({ values: { seats: null } });
    expect(file.validateRow(['K1', '2', '2024-02-02'])).toEqual({ field: 'contact_id', reason: 'duplicate key (contact_id, day) = (K1, 2024-03-01) in this file; the first row with it is kept' });
    expect(file.drift().map((f) => [f.kind, f.column])).toEqual([
      ['missing_optional_column', 'day'],
      ['missing_optional_column', 'note'],
    ]);
  });
});

describe('what the warehouse can hold', () => {
  it('every text column of the usage contract fits twice its length in UTF-16 units, and active_users summed over the widest window fits an INT', () => {
    const bronze = tableNamed('bronze.product_usage').columns;
    for (const [name, spec] of Object.entries(usageContract.columns)) {
      if (spec.type.kind !== 'text') continue;
      const column = bronze.find((c) => c.name === name)!;
      expect(column.type.kind === 'string' && column.type.length, name).toBeGreaterThanOrEqual(2 * spec.type.maxLength);
    }
    expect(usageContract.columns.active_users.type.max).toBe(MAX_ACTIVE_USERS);
    expect(MAX_ACTIVE_USERS * WIDEST_USAGE_WINDOW_DAYS).toBeLessThanOrEqual(MAX_INT32);
    // the churn rule's window cannot be set wider than the cap was computed for
    expect(() => loadSettings({ CHURN_INACTIVE_DAYS: String(WIDEST_USAGE_WINDOW_DAYS + 1) })).toThrow(/CHURN_INACTIVE_DAYS/);
    expect(loadSettings({ CHURN_INACTIVE_DAYS: String(WIDEST_USAGE_WINDOW_DAYS) }).CHURN_INACTIVE_DAYS).toBe(WIDEST_USAGE_WINDOW_DAYS);
    // 366 days of the largest events still fit a BIGINT sum
    expect(BigInt(MAX_EVENTS) * BigInt(WIDEST_USAGE_WINDOW_DAYS)).toBeLessThanOrEqual(2n ** 63n - 1n);
  });

  it('every column that records a landing path holds the longest path ingest accepts', () => {
    const pathColumns = ALL_TABLES.flatMap((t) => t.columns.filter((c) => ['_source_file', 'landing_file', 'source_file'].includes(c.name)).map((c) => [`${t.schema}.${t.name}.${c.name}`, c] as const));
    expect(pathColumns.length).toBeGreaterThan(3);
    for (const [name, c] of pathColumns) expect(c.type.kind === 'string' && (c.type.length ?? Infinity), name).toBeGreaterThanOrEqual(MAX_SOURCE_FILE_CHARS);
  });
});

describe('decimal, boolean and enum columns', () => {
  const columns = {
    id: { type: text(10), description: 'id' },
    amount: { type: decimal(12, 2, { min: 0 }), description: 'an order line amount' },
    paid: { type: boolean, nullable: true, description: 'paid yet' },
    stage: { type: oneOf('Prospect', 'Won', 'Lost'), description: 'a deal stage' },
    day: { type: date, description: 'the business date' },
  } as const;

  it('parse CSV text exactly, with the limit in the reason', () => {
    const contract = defineContract<FileContext>()({ source: 'order_lines', columns, key: ['id'], duplicateKeys: 'keep' });
    const file = csvUploadSource(contract, { businessDate: 'day', checks: NO_CHECKS }).openFile(['id', 'amount', 'paid', 'stage', 'day'], FILE);
    expect(file.validateRow(['A', '0012.50', 'Yes', 'won', '2024-03-01'])).toMatchObject({ values: { amount: '12.50', paid: true, stage: 'Won' } });
    expect(file.validateRow(['A', '-0.00', 'n', 'LOST', '2024-03-01'])).toMatchObject({ values: { amount: '0.00', paid: false, stage: 'Lost' } });
    expect(file.validateRow(['A', '.5', '', 'Prospect', '2024-03-01'])).toMatchObject({ values: { amount: '0.5', paid: null } });
    expect(file.validateRow(['A', '1.005', '1', 'Won', '2024-03-01'])).toEqual({ field: 'amount', reason: 'more than 2 decimal places: "1.005"' });
    expect(file.validateRow(['A', '12345678901', '1', 'Won', '2024-03-01'])).toEqual({ field: 'amount', reason: 'more than 10 digits before the point: "12345678901"' });
    expect(file.validateRow(['A', '-1', '1', 'Won', '2024-03-01'])).toEqual({ field: 'amount', reason: 'less than 0: -1' });
    expect(file.validateRow(['A', '1e3', '1', 'Won', '2024-03-01'])).toEqual({ field: 'amount', reason: 'not a decimal number: "1e3"' });
    expect(file.validateRow(['A', '1', 'maybe', 'Won', '2024-03-01'])).toEqual({ field: 'paid', reason: 'not true or false: "maybe"' });
    expect(file.validateRow(['A', '1', 'true', 'Open', '2024-03-01'])).toEqual({ field: 'stage', reason: 'not one of "Prospect", "Won", "Lost": "Open"' });
  });

  it('check JSON values the same way', () => {
    const json = compileJsonContract(defineContract<{ day: string }>()({ source: 'order_lines_api', columns, key: ['id'], duplicateKeys: 'keep' }));
    const file = json.open({ day: '2025-01-01' }, LIMITS);
    expect(file.check({ id: 'A', amount: 12.5, paid: true, stage: ' won ', day: '2025-01-01' })).toEqual({ ok: true, record: { id: 'A', amount: '12.5', paid: true, stage: 'Won', day: '2025-01-01' } });
    expect(file.check({ id: 'B', amount: '99999999.99', paid: null, stage: 'Lost', day: '2025-01-01' })).toMatchObject({ ok: true, record: { amount: '99999999.99', paid: null } });
    expect(file.check({ id: 'C', amount: 1e-7, paid: false, stage: 'Won', day: '2025-01-01' })).toMatchObject({ ok: false, field: 'amount' });
    expect(file.check({ id: 'D', amount: 1, paid: 'yes', stage: 'Won', day: '2025-01-01' })).toMatchObject({ ok: false, field: 'paid' });
    expect(file.check({ id: 'E', amount: 1, paid: true, stage: 'Open', day: '2025-01-01' })).toEqual({ ok: false, field: 'stage', reason: 'not one of "Prospect", "Won", "Lost": "Open"' });
  });
});

describe('date windows', () => {
  it('come from the settings unless a column declares its own', () => {
    const contract = defineContract<FileContext>()({
      source: 'customers',
      columns: {
        id: { type: text(10), description: 'id' },
        born: { type: within(date, { earliest: '1900-01-01' }), nullable: true, description: 'a birth date' },
        renews: { type: within(date, { maxDaysAhead: 400 }), nullable: true, description: 'a renewal date' },
        seen: { type: date, description: 'the business date' },
      },
      key: ['id'],
      duplicateKeys: 'keep',
    });
    const file = csvUploadSource(contract, { businessDate: 'seen', checks: NO_CHECKS }).openFile(['id', 'born', 'renews', 'seen'], FILE);
    expect(file.validateRow(['A', '1950-05-05', '2025-03-01', '2024-03-02'])).toMatchObject({ businessDate: '2024-03-02' });
    expect(file.validateRow(['A', '1899-12-31', '', '2024-03-01'])).toEqual({ field: 'born', reason: '"1899-12-31" is before 1900-01-01 (the column\'s earliest)' });
    expect(file.validateRow(['A', '', '2025-04-05', '2024-03-01'])).toMatchObject({ businessDate: '2024-03-01' });
    expect(file.validateRow(['A', '', '2025-04-06', '2024-03-01'])).toEqual({ field: 'renews', reason: '"2025-04-06" is after 2025-04-05 (400 days after the day the file arrived)' });
    expect(file.validateRow(['A', '', '', '2024-03-03'])).toEqual({ field: 'seen', reason: '"2024-03-03" is after 2024-03-02 (1 day after the day the file arrived)' });
    expect(file.validateRow(['A', '', '', '1999-12-31'])).toEqual({ field: 'seen', reason: '"1999-12-31" is before 2000-01-01 (INGEST_EARLIEST_DATE)' });
  });
});

describe('the usage record contract', () => {
  it('is the zod schema the API records are checked with', () => {
    expect(Object.keys(usageRecordSchema.shape)).toEqual(Object.keys(usageContract.columns));
    expect(validateUsageRecord({ company_id: 'C1', date: '2025-03-04', active_users: 3, events: 9, extra: true })).toEqual({
      ok: true,
      record: { company_id: 'C1', date: '2025-03-04', active_users: 3, events: 9 },
    });
    expect(validateUsageRecord({ company_id: '', date: '2025-03-04', active_users: 3, events: 9 })).toEqual({ ok: false, field: 'company_id', reason: 'empty' });
    expect(validateUsageRecord({ company_id: 'C1', date: '2025-03-04', active_users: 2_147_483_648, events: 9 })).toMatchObject({ ok: false, field: 'active_users' });
    expect(validateUsageRecord(42)).toMatchObject({ ok: false, field: '(record)' });
  });

  it('checks a pulled date: the date rule, duplicates by key, and drift', () => {
    const pull = openUsagePull('2025-03-04');
    const good = { company_id: 'C1', date: '2025-03-04', active_users: 3, events: 9 };
    expect(pull.check(good)).toEqual({ ok: true, record: good });
    expect(pull.check({ ...good, date: '2025-03-03' })).toEqual({ ok: false, field: 'date', reason: 'record is for 2025-03-03, not the requested date 2025-03-04' });
    expect(pull.check(good)).toEqual({ ok: false, field: 'company_id', reason: 'duplicate key (company_id, date) = (C1, 2025-03-04) in this file; the first row with it is kept' });
    expect(pull.check({ ...good, company_id: 'C2', active_users: '3', tier: 'gold' })).toMatchObject({ ok: false, field: 'active_users' });
    expect(pull.drift()).toEqual([
      expect.objectContaining({ kind: 'new_column', column: 'tier', observed: 'string', example: '"gold"' }),
      // 1 of 4 values is a string: a bad record, not (yet) a changed type
    ]);
    pull.check({ ...good, company_id: 'C3', active_users: '4' });
    pull.check({ ...good, company_id: 'C4', active_users: '5' });
    expect(pull.drift().map((f) => [f.kind, f.column, f.expected, f.observed])).toEqual([
      ['new_column', 'tier', undefined, 'string'],
      ['changed_type', 'active_users', 'integer', 'string'],
    ]);
  });
});

describe('JSON contracts with optional and nullable fields', () => {
  const contract = defineContract<{ day: string }>()({
    source: 'json_test',
    columns: {
      id: { type: text(10), description: 'id' },
      score: { type: integer(), nullable: true, description: 'may be null' },
      seen_at: { type: timestamp, optional: true, description: 'may be absent' },
    },
    key: ['id'],
    duplicateKeys: 'reject',
  });
  const json = compileJsonContract(contract);

  it('normalises timestamps and reports an optional field sent in no record', () => {
    const file = json.open({ day: '2025-01-01' }, LIMITS);
    expect(file.check({ id: 'a', score: null, seen_at: '2025-01-01T10:00:00+02:00' })).toEqual({ ok: true, record: { id: 'a', score: null, seen_at: '2025-01-01 08:00:00.000' } });
    expect(file.drift()).toEqual([]);
    const other = json.open({ day: '2025-01-01' }, LIMITS);
    expect(other.check({ id: 'a', score: 1 })).toEqual({ ok: true, record: { id: 'a', score: 1, seen_at: null } });
    other.check({ id: 'b', score: null });
    expect(other.drift()).toEqual([expect.objectContaining({ kind: 'missing_optional_column', column: 'seen_at', expected: 'timestamp' })]);
  });

  it('counts only non-null values when deciding a type changed', () => {
    const file = json.open({ day: '2025-01-01' }, LIMITS);
    file.check({ id: 'a', score: null, seen_at: null });
    file.check({ id: 'b', score: null, seen_at: null });
    file.check({ id: 'c', score: '7', seen_at: null });
    expect(file.drift().map((f) => [f.kind, f.column, f.observed])).toEqual([['changed_type', 'score', 'string']]);
  });
});

describe('unique keys', () => {
  it('keep only the first column while the others are constant, and switch to full keys when one varies', () => {
    const keys = new UniqueKeys(['id', 'day']);
    expect(keys.add({ id: 'a', day: 'd1' })).toBe(true);
    expect(keys.add({ id: 'b', day: 'd1' })).toBe(true);
    expect(keys.add({ id: 'a', day: 'd1' })).toBe(false);
    expect(keys.add({ id: 'a', day: 'd2' })).toBe(true); // switches
    expect(keys.add({ id: 'b', day: 'd1' })).toBe(false); // a key from before the switch
    expect(keys.add({ id: 'a', day: 'd2' })).toBe(false);
    expect(keys.add({ id: 'c', day: 'd1' })).toBe(true);
  });
});
