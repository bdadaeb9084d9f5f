/**
 * Sales: the simple export many shops have, dropped in `landing/sales/`: a leading row index that
 * pandas `to_csv` writes (headed `` or `Unnamed: 0`, ignored), then `Date`, `Customer ID`,
 * `Order ID`, `Sales`. Headers are matched as written, spaces included. A sales row is an approved
 * transaction whose merchant, category and channel are unknown: it feeds the same models.
 */
import { test } from '../../../quality/dataTests.js';
import { date, decimal, defineContract, text } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { MAX_TRANSACTION_AMOUNT } from './transactions.js';

export const salesContract = defineContract<FileContext>()({
  source: 'sales',
  columns: {
    order_date: { type: date, header: 'Date', description: 'the day of the order, YYYY-MM-DD' },
    customer_id: { type: text(50), header: 'Customer ID', description: 'the customer' },
    order_id: { type: text(64), header: 'Order ID', description: "the order id; a repeated id keeps the latest file's row" },
    amount: { type: decimal(9, 2, { max: MAX_TRANSACTION_AMOUNT }), header: 'Sales', description: 'the order amount: more than 0, at most 1,000,000' },
  },
  key: ['order_id'],
  duplicateKeys: 'keep',
  rules: [
    {
      field: 'amount',
      description: 'a sale is positive (this export has no refunds)',
      check: (row) => (Number(row.amount) > 0 ? undefined : `not positive: ${row.amount} (Sales must be more than 0)`),
    },
  ],
});

export const sales = csvUploadSource(salesContract, {
  businessDate: 'order_date',
  // the row index of a pandas export: headed "" or "Unnamed: 0"
  ignoreColumns: ['', 'Unnamed: 0'],
  checks: {
    freshness: { warnAfterHours: 30, errorAfterHours: 78, expectedFrom: 'own' },
    tests: [test.unique(['order_id', '_source_file'], { severity: 'warn' })],
  },
});
