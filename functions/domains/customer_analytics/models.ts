/**
 * Customer analytics models: customers, transactions and sales files → a star schema
 * (`gold.dim_customer` SCD type 2, `gold.dim_date`, `gold.dim_merchant_category`,
 * `gold.fct_transactions`) and the customer marts. SQL in `sql/customer_analytics/`.
 */
import type { DateRange } from '../../core/dates.js';
import { test } from '../../quality/dataTests.js';
import { codeModel, OPEN_END, sqlModel, tableOf, type Changes } from '../../transform/models.js';
import { bigint, bool, col, date, decimal, int, MAX_LANDING_PATH_CHARS, req, string, timestamp } from '../../warehouse/catalog.js';
import { buildDateDimension } from './dimDate.js';

/** The customer attributes, as every version carries them (text lengths: twice the contract's, in UTF-16 units). */
const customerAttributes = [
  col('first_name', string(200)),
  col('last_name', string(200)),
  col('email', string(508)),
  col('age', int),
  col('state', string(200)),
  col('city', string(200)),
  col('employment_status', string(100)),
  col('card_type', string(100)),
  col('credit_limit', decimal(12, 2)),
  col('account_open_date', date),
  col('customer_segment', string(100)),
  col('decline_type', string(100)),
];

export const customerVersions = sqlModel({
  name: 'silver.customer_versions',
  file: 'silver/customer_versions.sql',
  description: 'Customer attributes from every customers file as versions: a version starts on the day its attributes first differ from the previous ones.',
  key: ['customer_id', 'valid_from'],
  columns: [req('customer_id', string(100)), req('valid_from', date), ...customerAttributes, req('updated_at', timestamp), req('_source_file', string(MAX_LANDING_PATH_CHARS)), req('_row_number', bigint)],
  refresh: 'full',
  tests: [test.acceptedRange('age', { min: 0, max: 130 }), test.acceptedRange('credit_limit', { min: 0 })],
});

export const customerKeys = sqlModel({
  name: 'silver.customer_keys',
  file: 'silver/customer_keys.sql',
  description: 'The surrogate key of every customer version ever seen; rows are only added, so a key never changes.',
  key: ['customer_id', 'valid_from'],
  columns: [req('customer_id', string(100)), req('valid_from', date), req('customer_key', int)],
  refresh: 'full',
  tests: [test.unique('customer_key')],
});

export const dimCustomer = sqlModel({
  name: 'gold.dim_customer',
  file: 'gold/dim_customer.sql',
  description: 'Customers as SCD type 2: one row per version (valid_from inclusive, valid_to exclusive); a minimal version from 1900-01-01 stands for "not known yet".',
  key: ['customer_key'],
  columns: [
    req('customer_key', int),
    req('customer_id', string(100)),
    req('valid_from', date),
    req('valid_to', date),
    req('is_current', bool),
    req('is_minimal', bool),
    ...customerAttributes,
    col('updated_at', timestamp),
  ],
  refresh: 'full',
  tests: [
    test.unique(['customer_id', 'valid_from']),
    test.unique('customer_id', { where: 'is_current = 1' }), // one current version per customer
    test.expression('versions are non-empty intervals', 'valid_from < valid_to'),
    test.expression('every customer has its minimal version first', "is_minimal = 1 OR valid_from > CAST('1900-01-01' AS DATE)"),
  ],
});

export const dimDate = codeModel({
  name: 'gold.dim_date',
  description: 'One row per day, whole years covering the customer data: ISO week, month, quarter, year, day of week, weekend flag.',
  key: ['date_key'],
  columns: [
    req('date_key', int),
    req('calendar_date', date),
    req('year', int),
    req('quarter', int),
    req('month', int),
    req('month_name', string(16)),
    req('month_start', date),
    req('iso_year', int),
    req('iso_week', int),
    req('week_start', date),
    req('day_of_month', int),
    req('day_of_week', int),
    req('day_name', string(16)),
    req('is_weekend', bool),
  ],
  refresh: 'full',
  reads: ['bronze.transactions', 'bronze.sales'],
  build: buildDateDimension,
  tests: [test.unique('calendar_date'), test.acceptedRange('iso_week', { min: 1, max: 53 }), test.acceptedRange('day_of_week', { min: 1, max: 7 })],
});

export const dimMerchantCategory = sqlModel({
  name: 'gold.dim_merchant_category',
  file: 'gold/dim_merchant_category.sql',
  description: 'One row per merchant category, and "(unknown)" (key 0) for transactions without one and every sales row; rows are only added.',
  key: ['merchant_category_key'],
  columns: [req('merchant_category_key', int), req('merchant_category', string(200)), req('is_unknown', bool)],
  refresh: 'full',
  tests: [test.unique('merchant_category')],
});

/** Date-range facts rebuild the dates their sources changed; a customer version from D re-points every transaction from D on. */
function factDates(changes: Changes): DateRange | undefined {
  let range: DateRange | undefined;
  const widen = (r: DateRange | undefined) => {
    if (!r) return;
    range = range ? { from: r.from < range.from ? r.from : range.from, to: r.to > range.to ? r.to : range.to } : r;
  };
  widen(changes.get('bronze.transactions'));
  widen(changes.get('bronze.sales'));
  const customers = changes.get('gold.dim_customer');
  if (customers) widen({ from: customers.from, to: OPEN_END });
  return range;
}

export const fctTransactions = sqlModel({
  name: 'gold.fct_transactions',
  file: 'gold/fct_transactions.sql',
  description: 'One row per transaction (transactions files) or order (sales files), keyed to the customer version valid on its date, the date and the merchant category; declined kept, out of spend.',
  key: ['transaction_date', 'source_system', 'transaction_id'], // date first: rebuilt by date range
  columns: [
    req('transaction_date', date),
    req('source_system', string(16)),
    req('transaction_id', string(128)),
    col('transaction_at', timestamp),
    col('date_key', int),
    col('customer_key', int),
    req('customer_id', string(100)),
    col('merchant_category_key', int),
    col('merchant_name', string(400)),
    col('channel', string(16)),
    req('status', string(16)),
    req('amount', decimal(12, 2)),
    req('spend_amount', decimal(12, 2)),
    req('is_approved', bool),
    req('is_purchase', bool),
    req('is_refund', bool),
    req('_source_file', string(MAX_LANDING_PATH_CHARS)),
    req('_row_number', bigint),
  ],
  refresh: 'date_range',
  dateColumn: 'transaction_date',
  affectedDates: factDates,
  tests: [
    // a missing dimension member would be a NULL key: it fails here, no row is dropped
    test.notNull(['date_key', 'customer_key', 'merchant_category_key']),
    test.relationships('customer_key', tableOf(dimCustomer), 'customer_key'),
    test.relationships('merchant_category_key', tableOf(dimMerchantCategory), 'merchant_category_key'),
    test.acceptedValues('status', ['approved', 'declined']),
    test.acceptedValues('source_system', ['transactions', 'sales']),
    test.expression('declined transactions are out of spend', "spend_amount = CASE WHEN status = 'approved' THEN amount ELSE 0 END"),
  ],
});

export const STAR_SCHEMA = [customerVersions, customerKeys, dimCustomer, dimDate, dimMerchantCategory, fctTransactions];
