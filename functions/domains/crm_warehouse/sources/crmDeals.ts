/**
 * CRM deals: incremental exports dropped in `landing/crm_deals/`. Every version of a deal ever
 * received stays in bronze: staging keeps the latest, the stage history is built from all of them.
 */
import { date, decimal, defineContract, integer, oneOf, text, timestamp, within, type RowRule } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS, notBefore } from './rules.js';

export const DEAL_STAGES = ['prospecting', 'qualification', 'proposal', 'negotiation', 'closed_won', 'closed_lost'] as const;
const CLOSED_STAGES: readonly string[] = ['closed_won', 'closed_lost'];

/** A closed deal says when it closed; an open one does not (a reopened deal's export clears closed_at). */
const closedAtMatchesStage: RowRule<{ stage: string; closed_at: string | null }, FileContext> = {
  field: 'closed_at',
  description: 'closed_at is set exactly when the stage is closed_won or closed_lost',
  check: (row) => {
    const closed = CLOSED_STAGES.includes(row.stage);
    if (closed && row.closed_at === null) return `empty, but the stage is ${row.stage}`;
    if (!closed && row.closed_at !== null) return `${row.closed_at} given, but the stage ${row.stage} is open`;
    return undefined;
  },
};

export const crmDealsContract = defineContract<FileContext>()({
  source: 'crm_deals',
  columns: {
    deal_id: { type: text(50), description: 'the CRM id of the deal' },
    account_id: { type: text(50), nullable: true, description: 'the account the deal is with; empty: none' },
    contact_id: { type: text(50), nullable: true, description: 'the main contact; empty: none' },
    deal_name: { type: text(200), description: 'deal name' },
    stage: { type: oneOf(...DEAL_STAGES), description: DEAL_STAGES.join(', ') },
    amount: { type: decimal(14, 2, { min: 0 }), description: 'deal value' },
    probability: { type: integer({ min: 0, max: 100 }), description: 'chance of winning, 0–100 %' },
    // a close date is planned: up to ten years after the file arrived
    expected_close_date: { type: within(date, { maxDaysAhead: 3660 }), nullable: true, description: 'planned close date; empty: none' },
    owner: { type: text(200), nullable: true, description: 'deal owner; empty: unassigned' },
    created_at: { type: timestamp, description: 'when the deal was created' },
    closed_at: { type: timestamp, nullable: true, description: 'when it closed (won or lost); empty while open' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['deal_id'],
  duplicateKeys: 'keep',
  rules: [notBefore('updated_at', 'created_at'), notBefore('closed_at', 'created_at'), closedAtMatchesStage],
});

export const crmDeals = csvUploadSource(crmDealsContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
