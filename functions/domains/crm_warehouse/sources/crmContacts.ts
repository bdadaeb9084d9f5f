/**
 * CRM contacts: incremental exports dropped in `landing/crm_contacts/`. A contact's account may
 * arrive in a later file: an unknown `account_id` is not a bad row (a relationships test at the
 * model layer reports it).
 */
import { defineContract, oneOf, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS, notBefore } from './rules.js';

export const crmContactsContract = defineContract<FileContext>()({
  source: 'crm_contacts',
  columns: {
    contact_id: { type: text(50), description: 'the CRM id of the contact' },
    account_id: { type: text(50), nullable: true, description: 'the contact\'s account; empty: none' },
    first_name: { type: text(100), description: 'first name' },
    last_name: { type: text(100), nullable: true, description: 'last name; empty: none given' },
    email: { type: text(320), nullable: true, description: 'e-mail address; empty: none' },
    job_title: { type: text(200), nullable: true, description: 'job title as typed in the CRM (seniority is derived from it); empty: unknown' },
    gender: { type: oneOf('Female', 'Male', 'Non-binary', 'Undisclosed'), nullable: true, description: 'Female, Male, Non-binary or Undisclosed; empty: unknown' },
    income_segment: { type: oneOf('Low', 'Medium', 'High'), nullable: true, description: 'Low, Medium or High; empty: unknown' },
    created_at: { type: timestamp, description: 'when the contact was created in the CRM' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['contact_id'],
  duplicateKeys: 'keep',
  rules: [notBefore('updated_at', 'created_at')],
});

export const crmContacts = csvUploadSource(crmContactsContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
