/** CRM products: incremental exports of the product catalogue, dropped in `landing/crm_products/`. */
import { boolean, decimal, defineContract, integer, text, timestamp } from '../../../sources/contract.js';
import { csvUploadSource } from '../../../sources/csvContract.js';
import type { FileContext } from '../../../sources/uploadSource.js';
import { CRM_EXPORT_CHECKS } from './rules.js';


export const crmProductsContract = defineContract<FileContext>()({
  source: 'crm_products',
  columns: {
    product_id: { type: text(50), description: 'the CRM id of the product' },
    sku: { type: text(64), description: 'stock-keeping unit' },
    product_name: { type: text(200), description: 'product name' },
    category: { type: text(100), nullable: true, description: 'product category; empty: uncategorised' },
    unit_price: { type: decimal(10, 2, { min: 0 }), description: 'list price per unit' },
    unit_cost: { type: decimal(10, 2, { min: 0 }), nullable: true, description: 'cost per unit; empty: unknown (no margin)' },
    stock_quantity: { type: integer({ min: 0, max: 1_000_000_000 }), description: 'units in stock' },
    reorder_level: { type: integer({ min: 0, max: 1_000_000_000 }), description: 'stock level at which to reorder' },
    is_active: { type: boolean, description: 'still sold' },
    updated_at: { type: timestamp, description: 'when this version was written: the latest one wins' },
  },
  key: ['product_id'],
  duplicateKeys: 'keep',
});

export const crmProducts = csvUploadSource(crmProductsContract, { businessDate: 'updated_at', checks: CRM_EXPORT_CHECKS });
