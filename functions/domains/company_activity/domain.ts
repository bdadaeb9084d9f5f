/**
 * Company activity: CRM company snapshots (CSV uploads) and daily product usage (pulled from the
 * usage API) → `gold.fact_company_activity_daily`, one row per company per calendar day with the
 * CRM attributes known that day, rolling 7-day sums and a churn-risk flag.
 */
import { crmCompanyDaily } from './sources/crmCompanyDaily.js';
import { usageBronzeSource } from './sources/productUsage/contract.js';
import { defineDomain } from '../domain.js';
import { date, req } from '../../warehouse/catalog.js';
import { dimCalendar, dimCompany, factCompanyActivityDaily, factCompanyUsageDaily } from './models.js';
import { companyActivityReport } from './report.js';
import { lookbackDays } from './windows.js';

/** The gold fact's columns, which the activity view keeps as they are. */
const activityColumns = factCompanyActivityDaily.columns;

export const companyActivity = defineDomain({
  name: 'company_activity',
  title: 'Company activity',
  description: 'CRM company snapshots and product usage → a daily activity fact with rolling sums and a churn-risk flag.',
  uploadSources: [crmCompanyDaily],
  pulledSources: [usageBronzeSource],
  models: [dimCompany, factCompanyUsageDaily, dimCalendar, factCompanyActivityDaily],
  views: [
    {
      name: 'reporting.company_activity_daily',
      file: 'reporting/company_activity_daily.sql',
      description: 'One row per company per calendar day: CRM attributes, usage, 7-day sums, churn flag.',
      exposure: 'Power BI "Company activity" page; report page "Company activity"',
      columns: activityColumns,
    },
    {
      name: 'reporting.companies_at_churn_risk',
      file: 'reporting/companies_at_churn_risk.sql',
      description: 'The companies flagged at churn risk on the latest day of the data.',
      exposure: 'Power BI "Company activity" page (churn list); report page "Company activity"',
      columns: [
        req('as_of_date', date),
        ...activityColumns.filter((c) => ['company_id', 'company_name', 'country', 'industry_tag', 'last_contact_at', 'active_users_7d', 'events_7d'].includes(c.name)),
      ],
    },
  ],
  report: companyActivityReport,
  values: (settings) => ({
    parameters: { lookback_days: lookbackDays(settings), contact_window_days: settings.CHURN_CONTACT_WINDOW_DAYS },
    // window frame offsets must be literals on both engines
    slots: { churn_frame_preceding: settings.CHURN_INACTIVE_DAYS - 1 },
  }),
  headlines: async (session) => {
    const [gold] = await session.query<{ n: number; companies: number; first_date: string | null; last_date: string | null }>(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT company_id) AS companies, MIN(activity_date) AS first_date, MAX(activity_date) AS last_date FROM gold.fact_company_activity_daily`,
    );
    const atRisk = await session.query<{ company_id: string }>(
      `SELECT company_id FROM gold.fact_company_activity_daily
       WHERE is_churn_risk = 1 AND activity_date = (SELECT MAX(activity_date) FROM gold.fact_company_activity_daily) ORDER BY company_id`,
    );
    const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');
    return [
      { label: 'gold', value: `${n(gold?.n)} rows in gold.fact_company_activity_daily: ${n(gold?.companies)} companies, ${gold?.first_date ?? '-'} … ${gold?.last_date ?? '-'}` },
      {
        label: 'churn risk',
        value: `${n(atRisk.length)} companies on ${gold?.last_date ?? '-'}${atRisk.length ? `: ${atRisk.slice(0, 8).map((r) => r.company_id).join(', ')}${atRisk.length > 8 ? ', …' : ''}` : ''}`,
      },
    ];
  },
});
