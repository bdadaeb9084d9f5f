/**
 * Company activity's report page and its share of the executive summary: active users and events
 * over time, companies at churn risk over time and the current list. Read from the reporting views
 * (`reporting.company_activity_daily`, `reporting.companies_at_churn_risk`), the ones Power BI
 * reads; the churn flag and the 7-day sums are gold's, never recomputed here.
 */
import { addDays, type IsoDate } from '../../core/dates.js';
import type { Settings } from '../../core/settings.js';
import { fmt, topRows, type Block, type DomainReport, type Figure, type Insight, type ReportPage, type ReportSource } from '../../report/page.js';

const PAGE_ID = 'company-activity';
const ACTIVITY = 'reporting.company_activity_daily';
const AT_RISK = 'reporting.companies_at_churn_risk';
/** The previous period the headlines compare with: the rolling windows' length. */
const PERIOD_DAYS = 7;
const LIST_ROWS = 20;
const TABLE_DAYS = 10;

export interface ActivityDay {
  activity_date: IsoDate;
  active_users: number;
  events: number;
  events_7d: number;
  active_companies: number;
  companies_at_risk: number;
  companies: number;
}

/** One row per day over every company: the sums of the view's columns and counts of its flags. */
export function activityByDay(source: ReportSource): Promise<ActivityDay[]> {
  return source.warehouse.query<ActivityDay>(
    `SELECT activity_date,
            SUM(CAST(active_users AS BIGINT)) AS active_users,
            SUM(events) AS events,
            SUM(events_7d) AS events_7d,
            SUM(CASE WHEN active_users_7d > 0 THEN 1 ELSE 0 END) AS active_companies,
            SUM(CASE WHEN is_churn_risk = 1 THEN 1 ELSE 0 END) AS companies_at_risk,
            COUNT(*) AS companies
     FROM ${ACTIVITY}
     GROUP BY activity_date
     ORDER BY activity_date`,
  );
}

/** The headline figures on the data's last day, each against the same figure 7 days earlier. */
export function activityFigures(days: ActivityDay[]): Figure[] {
  const last = days.at(-1)!;
  const earlier = addDays(last.activity_date, -PERIOD_DAYS);
  const prev = days.find((d) => d.activity_date === earlier);
  const previous = (pick: (d: ActivityDay) => number) => ({ value: prev ? pick(prev) : null, label: `7 days earlier (${earlier})` });
  return [
    { id: 'company_activity.active_users', label: 'Active users', value: last.active_users, format: fmt.int, previous: previous((d) => d.active_users), better: 'up', note: `summed over companies on ${last.activity_date}` },
    { id: 'company_activity.events_7d', label: 'Events, last 7 days', value: last.events_7d, format: fmt.int, previous: previous((d) => d.events_7d), better: 'up', note: `the 7 days to ${last.activity_date}` },
    {
      id: 'company_activity.active_companies',
      label: 'Active companies',
      value: last.active_companies,
      format: fmt.int,
      previous: previous((d) => d.active_companies),
      better: 'up',
      note: `with an active user in the 7 days to ${last.activity_date}, of ${last.companies.toLocaleString('en-US')}`,
    },
    { id: 'company_activity.companies_at_risk', label: 'Companies at churn risk', value: last.companies_at_risk, format: fmt.int, previous: previous((d) => d.companies_at_risk), better: 'down', note: `flagged on ${last.activity_date}` },
  ];
}

const churnRule = (s: Settings) =>
  `a company is at churn risk on a day when it had no active users in the ${s.CHURN_INACTIVE_DAYS} days to it and no CRM contact in the ${s.CHURN_CONTACT_WINDOW_DAYS} days before it (never contacted counts as no contact)`;

/** The latest days first, as the tables beside the charts show them. */
const latestFirst = (days: ActivityDay[]) => days.slice(-TABLE_DAYS).reverse();

const companyActivityPage: ReportPage = {
  id: PAGE_ID,
  title: 'Company activity',
  order: 60,
  async build(source) {
    const days = await activityByDay(source);
    if (days.length === 0) return undefined;
    const first = days[0]!.activity_date;
    const last = days.at(-1)!.activity_date;
    const list = await topRows<{
      company_id: string;
      company_name: string | null;
      country: string | null;
      industry_tag: string | null;
      last_contact_at: Date | null;
      active_users_7d: number;
      events_7d: number;
    }>(
      source.warehouse,
      `SELECT company_id, company_name, country, industry_tag, last_contact_at, active_users_7d, events_7d FROM ${AT_RISK}`,
      // never contacted first, then the longest since a contact: the order to work through them
      'CASE WHEN last_contact_at IS NULL THEN 0 ELSE 1 END, last_contact_at, company_id',
      LIST_ROWS,
    );
    const dayTable = { source: ACTIVITY, rows: latestFirst(days), total: days.length, noun: 'earlier days', maxRows: TABLE_DAYS };
    const blocks: Block[] = [
      { kind: 'figures', figures: activityFigures(days) },
      {
        kind: 'chart',
        chart: {
          kind: 'line',
          title: 'Active users per day',
          description: `Active users per day over all companies, ${first} to ${last}`,
          source: ACTIVITY,
          x: { label: 'Date (UTC)' },
          y: { label: 'Active users', unit: 'users', format: fmt.int },
          series: [{ name: 'Active users', points: days.map((d) => [d.activity_date, d.active_users]) }],
          area: true,
        },
        table: {
          ...dayTable,
          title: 'Active users and events, latest days',
          columns: [
            { key: 'activity_date', label: 'Date', format: fmt.date },
            { key: 'active_users', label: 'Active users', format: fmt.int },
            { key: 'events', label: 'Events', format: fmt.int },
          ],
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'line',
          title: 'Events per day',
          description: `Product events per day over all companies, ${first} to ${last}`,
          source: ACTIVITY,
          x: { label: 'Date (UTC)' },
          y: { label: 'Events', unit: 'events', format: fmt.int },
          series: [{ name: 'Events', points: days.map((d) => [d.activity_date, d.events]), color: 'orange' }],
        },
        table: {
          ...dayTable,
          title: 'Events, latest days',
          columns: [
            { key: 'activity_date', label: 'Date', format: fmt.date },
            { key: 'events', label: 'Events', format: fmt.int },
            { key: 'events_7d', label: 'Events, 7 days', format: fmt.int },
          ],
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'line',
          title: 'Companies at churn risk per day',
          description: `Companies flagged at churn risk and companies active in the last 7 days, per day, ${first} to ${last}`,
          source: ACTIVITY,
          x: { label: 'Date (UTC)' },
          y: { label: 'Companies', unit: 'companies', format: fmt.int },
          series: [
            { name: 'At churn risk', points: days.map((d) => [d.activity_date, d.companies_at_risk]), color: 'vermillion' },
            { name: 'Active in the last 7 days', points: days.map((d) => [d.activity_date, d.active_companies]), color: 'blue' },
          ],
        },
        table: {
          ...dayTable,
          title: 'Companies at churn risk, latest days',
          columns: [
            { key: 'activity_date', label: 'Date', format: fmt.date },
            { key: 'companies_at_risk', label: 'At churn risk', format: fmt.int },
            { key: 'active_companies', label: 'Active, 7 days', format: fmt.int },
            { key: 'companies', label: 'Companies', format: fmt.int },
          ],
        },
      },
      {
        kind: 'table',
        table: {
          title: `Companies at churn risk on ${last}`,
          source: AT_RISK,
          noun: 'companies',
          columns: [
            { key: 'company_name', label: 'Company', format: fmt.text },
            { key: 'company_id', label: 'Id', format: fmt.text },
            { key: 'country', label: 'Country', format: fmt.text },
            { key: 'industry_tag', label: 'Industry', format: fmt.text },
            { key: 'last_contact_at', label: 'Last CRM contact', format: fmt.date },
            { key: 'active_users_7d', label: 'Active users, 7 days', format: fmt.int },
            { key: 'events_7d', label: 'Events, 7 days', format: fmt.int },
          ],
          rows: list.rows,
          total: list.total,
          maxRows: LIST_ROWS,
          empty: 'No company is at churn risk.',
        },
      },
      { kind: 'note', text: `How the flag is set: ${churnRule(source.settings)}. Never-contacted companies are listed first, then the longest since a contact.` },
    ];
    return {
      asOf: last,
      range: { from: first, to: last },
      intro: 'Product usage per day over every company, and the companies whose usage has stopped without a recent CRM contact.',
      blocks,
    };
  },
};

export const companyActivityReport: DomainReport = {
  pages: [companyActivityPage],
  async summary(source) {
    const days = await activityByDay(source);
    if (days.length === 0) return undefined;
    const last = days.at(-1)!;
    const first = days[0]!.activity_date;
    const insights: Insight[] = [];
    const [never] = await source.warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${AT_RISK} WHERE last_contact_at IS NULL`);
    const share = last.companies ? last.companies_at_risk / last.companies : 0;
    insights.push({
      area: 'Company activity',
      finding:
        last.companies_at_risk === 0
          ? `No company is at churn risk on ${last.activity_date}.`
          : `${last.companies_at_risk === 1 ? '1 company is' : `${last.companies_at_risk.toLocaleString('en-US')} companies are`} at churn risk on ${last.activity_date}: no active users lately and no recent CRM contact (${Number(never?.n ?? 0).toLocaleString('en-US')} of them never contacted).`,
      evidence: `${last.companies_at_risk.toLocaleString('en-US')} of ${last.companies.toLocaleString('en-US')} companies (${(share * 100).toFixed(1)} %)`,
      pageId: PAGE_ID,
    });
    const countries = await topRows<{ country: string; n: number }>(
      source.warehouse,
      `SELECT COALESCE(country, '(unknown)') AS country, COUNT(*) AS n FROM ${AT_RISK} GROUP BY COALESCE(country, '(unknown)')`,
      'n DESC, country',
      2,
    );
    const [top, second] = countries.rows;
    // only a real leader is news: at least two companies, and more than the next country
    if (top && Number(top.n) >= 2 && countries.total >= 2 && Number(top.n) > Number(second?.n ?? 0)) {
      insights.push({
        area: 'Company activity',
        finding: `The largest group of companies at churn risk is in ${top.country}.`,
        evidence: `${Number(top.n).toLocaleString('en-US')} of ${last.companies_at_risk.toLocaleString('en-US')} at-risk companies`,
        pageId: PAGE_ID,
      });
    }
    return {
      group: { title: 'Company activity', pageId: PAGE_ID, asOf: last.activity_date, range: { from: first, to: last.activity_date }, figures: activityFigures(days) },
      insights,
    };
  },
};
