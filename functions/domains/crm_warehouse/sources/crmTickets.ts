/** Support tickets: incremental exports dropped in `landing/crm_tickets/`. */
import { defineContract, integer, oneOf, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS, notBefore } from './rules.js';

export const TICKET_CHANNELS = ['email', 'chat', 'phone', 'social'] as const;
export const TICKET_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

export const crmTicketsContract = defineContract<FileContext>()({
  source: 'crm_tickets',
  columns: {
    ticket_id: { type: text(50), description: 'the CRM id of the ticket' },
    account_id: { type: text(50), nullable: true, description: 'the account; empty: none' },
    contact_id: { type: text(50), nullable: true, description: 'the contact who raised it; empty: none' },
    channel: { type: oneOf(...TICKET_CHANNELS), description: TICKET_CHANNELS.join(', ') },
    issue_type: { type: text(100), description: 'what it is about (billing, login, …)' },
    priority: { type: oneOf(...TICKET_PRIORITIES), description: TICKET_PRIORITIES.join(', ') },
    status: { type: oneOf('new', 'open', 'pending', 'resolved', 'closed'), description: 'new, open, pending, resolved or closed' },
    created_at: { type: timestamp, description: 'when it was raised' },
    first_response_at: { type: timestamp, nullable: true, description: 'first answer from support; empty: none yet' },
    resolved_at: { type: timestamp, nullable: true, description: 'when it was resolved; empty: not yet' },
    csat_score: { type: integer({ min: 1, max: 5 }), nullable: true, description: 'satisfaction 1–5; empty: not answered' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['ticket_id'],
  duplicateKeys: 'keep',
  rules: [notBefore('first_response_at', 'created_at'), notBefore('resolved_at', 'created_at'), notBefore('updated_at', 'created_at')],
});

export const crmTickets = csvUploadSource(crmTicketsContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
