/**
 * Transactions: CSV exports dropped in `landing/transactions/`, one row per card transaction.
 * A refund is an approved transaction with a negative amount (allowed here, unlike `sales`);
 * a declined one is kept with its status and left out of spend by the models.
 */
import { test } from '../../../quality/dataTests.js';
import { decimal, defineContract, oneOf, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';

/**
 * Largest amount of one transaction, either sign. Sums stay exact in the marts' DECIMAL(18, 2):
 * 10^16 / 10^6 = 10^10 transactions per customer or month before one could overflow.
 */
export const MAX_TRANSACTION_AMOUNT = 1_000_000;

export const CHANNELS = ['Online', 'In-Store', 'Mobile'] as const;
export const STATUSES = ['approved', 'declined'] as const;

export const transactionsContract = defineContract<FileContext>()({
  source: 'transactions',
  columns: {
    transaction_id: { type: text(64), description: 'the transaction id; a repeated id keeps the latest file\'s row' },
    customer_id: { type: text(50), description: 'the customer' },
    // a date (midnight UTC) or a date-time with an offset; the business date is its UTC date
    transaction_date: { type: timestamp, description: 'when it happened: a date or an ISO 8601 date-time (offsets → UTC)' },
    transaction_amount: {
      type: decimal(9, 2, { min: -MAX_TRANSACTION_AMOUNT, max: MAX_TRANSACTION_AMOUNT }),
      description: 'amount; negative for a refund; -1,000,000 … 1,000,000',
    },
    merchant_name: { type: text(200), nullable: true, description: 'merchant; empty: unknown' },
    merchant_category: { type: text(100), nullable: true, description: 'merchant category; empty: Unknown' },
    channel: { type: oneOf(...CHANNELS), nullable: true, description: 'Online, In-Store or Mobile (any case); empty: unknown' },
    status: { type: oneOf(...STATUSES), description: 'approved or declined (any case)' },
  },
  key: ['transaction_id'],
  // A file may repeat an id (a corrected row): all land; the models keep the latest file's row,
  // then the file's last line. A set of ids per file would grow with the file.
  duplicateKeys: 'keep',
});

export const transactions = csvUploadSource(transactionsContract, {
  businessDate: 'transaction_date',
  checks: {
    freshness: { warnAfterHours: 30, errorAfterHours: 78, expectedFrom: 'own' },
    tests: [test.unique(['transaction_id', '_source_file'], { severity: 'warn' })],
  },
});
