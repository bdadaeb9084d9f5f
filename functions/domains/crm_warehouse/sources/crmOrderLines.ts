/**
 * Order lines: incremental exports dropped in `landing/crm_order_lines/`, one row per line of an
 * order. A line's product may arrive in a later file (not a bad row: the fact keeps the line under
 * the unknown product until it does).
 */
import { decimal, defineContract, integer, oneOf, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS, notBefore } from './rules.js';

export const ORDER_STATUSES = ['pending', 'processing', 'shipped', 'delivered', 'cancelled', 'returned'] as const;

export const crmOrderLinesContract = defineContract<FileContext>()({
  source: 'crm_order_lines',
  columns: {
    order_id: { type: text(50), description: 'the order' },
    line_number: { type: integer({ min: 1, max: 100_000 }), description: 'the line within the order, from 1' },
    account_id: { type: text(50), nullable: true, description: 'the ordering account; empty: none' },
    contact_id: { type: text(50), nullable: true, description: 'the ordering contact; empty: none' },
    product_id: { type: text(50), description: 'the product' },
    // with unit_price ≤ 99,999,999.99, a line is at most 10^13: DECIMAL(18, 2); sums of 10^8 lines DECIMAL(24, 2)
    quantity: { type: integer({ min: 1, max: 100_000 }), description: 'units ordered' },
    unit_price: { type: decimal(10, 2, { min: 0 }), description: 'price per unit on this order' },
    discount: { type: decimal(5, 4, { min: 0, max: 1 }), nullable: true, description: 'discount as a share, 0–1; empty: none' },
    order_status: { type: oneOf(...ORDER_STATUSES), description: ORDER_STATUSES.join(', ') },
    ordered_at: { type: timestamp, description: 'when it was ordered' },
    shipped_at: { type: timestamp, nullable: true, description: 'when it shipped; empty: not yet' },
    delivered_at: { type: timestamp, nullable: true, description: 'when it was delivered; empty: not yet' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['order_id', 'line_number'],
  duplicateKeys: 'keep',
  rules: [notBefore('shipped_at', 'ordered_at'), notBefore('delivered_at', 'ordered_at'), notBefore('delivered_at', 'shipped_at'), notBefore('updated_at', 'ordered_at')],
});

export const crmOrderLines = csvUploadSource(crmOrderLinesContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
