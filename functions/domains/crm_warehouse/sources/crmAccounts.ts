/**
 * CRM accounts: incremental exports dropped in `landing/crm_accounts/`, the accounts created or
 * changed since the previous export. An account arrives again whenever it changes; the latest
 * `updated_at` wins (silver.stg_crm_accounts).
 */
import { decimal, defineContract, integer, oneOf, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS, notBefore } from './rules.js';

export const crmAccountsContract = defineContract<FileContext>()({
  source: 'crm_accounts',
  columns: {
    account_id: { type: text(50), description: 'the CRM id of the account' },
    account_name: { type: text(200), description: 'account name' },
    industry: { type: text(100), nullable: true, description: 'industry; empty: unknown' },
    country: { type: text(100), nullable: true, description: 'country code or name; empty: unknown' },
    employee_count: { type: integer({ min: 0, max: 10_000_000 }), nullable: true, description: 'employees; empty: unknown' },
    annual_revenue: { type: decimal(18, 2, { min: 0 }), nullable: true, description: 'annual revenue in the reporting currency; empty: unknown' },
    account_type: { type: oneOf('customer', 'prospect', 'partner'), description: 'customer, prospect or partner' },
    owner: { type: text(200), nullable: true, description: 'account owner (a sales rep); empty: unassigned' },
    created_at: { type: timestamp, description: 'when the account was created in the CRM' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['account_id'],
  // a repeated id is a later (or the same) version: all land, staging keeps the latest
  duplicateKeys: 'keep',
  rules: [notBefore('updated_at', 'created_at')],
});

export const crmAccounts = csvUploadSource(crmAccountsContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
