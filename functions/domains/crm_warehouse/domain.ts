/**
 * CRM warehouse: seven incremental CRM exports (accounts, contacts, products, deals, activities,
 * tickets, order lines) → staging, Type 1 dimensions with stable surrogate keys, facts (with the
 * full stage history of every deal) and the metric tables Power BI reads through `reporting` views.
 * Reference: docs/crm-warehouse.md.
 */
import { defineDomain } from '../domain.js';
import { crmHeadlines } from './headlines.js';
import { CRM_MODELS } from './models.js';
import { crmReport } from './report.js';
import { crmSample } from './sample.js';
import { CRM_VIEWS } from './views.js';
import { crmAccounts, crmActivities, crmContacts, crmDeals, crmOrderLines, crmProducts, crmTickets } from './sources/index.js';

export const crmWarehouse = defineDomain({
  name: 'crm_warehouse',
  title: 'CRM warehouse',
  description: 'Seven CRM exports → staging, Type 1 dimensions, facts with deal stage history, and metrics for Power BI.',
  uploadSources: [crmAccounts, crmContacts, crmProducts, crmDeals, crmActivities, crmTickets, crmOrderLines],
  models: CRM_MODELS,
  views: CRM_VIEWS,
  values: (settings) => {
    const response = settings.CRM_SLA_FIRST_RESPONSE_HOURS;
    const resolution = settings.CRM_SLA_RESOLUTION_HOURS;
    return {
      parameters: {
        sla_response_urgent: response.urgent,
        sla_response_high: response.high,
        sla_response_medium: response.medium,
        sla_response_low: response.low,
        sla_resolution_urgent: resolution.urgent,
        sla_resolution_high: resolution.high,
        sla_resolution_medium: resolution.medium,
        sla_resolution_low: resolution.low,
      },
    };
  },
  headlines: (session) => crmHeadlines(session),
  sample: (options) => crmSample(options),
  report: crmReport,
});
