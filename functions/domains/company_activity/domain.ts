/**
 * Company activity: CRM company snapshots (CSV uploads) and daily product usage (pulled from the
 * usage API) → `gold.fact_company_activity_daily`, one row per company per calendar day with the
 * CRM attributes known that day, rolling 7-day sums and a churn-risk flag.
 */
import { crmCompanyDaily } from '../../sources/crmCompanyDaily/contract.js';
import { usageBronzeSource } from '../../sources/productUsage/contract.js';
import { defineDomain } from '../domain.js';
import { dimCalendar, dimCompany, factCompanyActivityDaily, factCompanyUsageDaily } from './models.js';
import { lookbackDays } from './windows.js';

export const companyActivity = defineDomain({
  name: 'company_activity',
  title: 'Company activity',
  description: 'CRM company snapshots and product usage → a daily activity fact with rolling sums and a churn-risk flag.',
  uploadSources: [crmCompanyDaily],
  pulledSources: [usageBronzeSource],
  models: [dimCompany, factCompanyUsageDaily, dimCalendar, factCompanyActivityDaily],
  values: (settings) => ({
    parameters: { lookback_days: lookbackDays(settings), contact_window_days: settings.CHURN_CONTACT_WINDOW_DAYS },
    // window frame offsets must be literals on both engines
    slots: { churn_frame_preceding: settings.CHURN_INACTIVE_DAYS - 1 },
  }),
});
