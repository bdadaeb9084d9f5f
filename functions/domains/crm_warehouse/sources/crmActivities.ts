/** CRM activities (calls, e-mails, meetings, notes, tasks): incremental exports dropped in `landing/crm_activities/`. */
import { defineContract, oneOf, text, timestamp, within } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS } from './rules.js';

export const crmActivitiesContract = defineContract<FileContext>()({
  source: 'crm_activities',
  columns: {
    activity_id: { type: text(50), description: 'the CRM id of the activity' },
    activity_type: { type: oneOf('call', 'email', 'meeting', 'note', 'task'), description: 'call, email, meeting, note or task' },
    account_id: { type: text(50), nullable: true, description: 'the account; empty: none' },
    contact_id: { type: text(50), nullable: true, description: 'the contact; empty: none' },
    deal_id: { type: text(50), nullable: true, description: 'the deal; empty: none' },
    owner: { type: text(200), nullable: true, description: 'who did or owns it; empty: unassigned' },
    subject: { type: text(500), nullable: true, description: 'subject line; empty: none' },
    // planned meetings and tasks lie ahead: up to ten years after the file arrived
    activity_at: { type: within(timestamp, { maxDaysAhead: 3660 }), description: 'when it happened or is planned' },
    due_at: { type: within(timestamp, { maxDaysAhead: 3660 }), nullable: true, description: 'when it is due; empty: no due date' },
    completed_at: { type: timestamp, nullable: true, description: 'when it was completed; empty: not completed' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['activity_id'],
  duplicateKeys: 'keep',
});

export const crmActivities = csvUploadSource(crmActivitiesContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
