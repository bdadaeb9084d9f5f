/** The seven CRM exports, in the order their entities depend on each other. */
export { crmAccounts } from './crmAccounts.js';
export { crmContacts } from './crmContacts.js';
export { crmProducts } from './crmProducts.js';
export { crmDeals, DEAL_STAGES } from './crmDeals.js';
export { crmActivities } from './crmActivities.js';
export { crmTickets, TICKET_CHANNELS, TICKET_PRIORITIES } from './crmTickets.js';
export { crmOrderLines, ORDER_STATUSES } from './crmOrderLines.js';
