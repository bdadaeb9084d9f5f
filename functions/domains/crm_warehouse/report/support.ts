/**
 * The "Support and satisfaction" page and its share of the executive summary: first-response and
 * resolution time per channel as median, P75 and P95, CSAT and its positive share per channel
 * (with the number of answers), SLA compliance, and the weekly operations trend. Percentiles,
 * shares and compliance are `gold.mtr_support_performance`'s (per channel and month) and
 * `gold.mtr_weekly_ops`'s (per ISO week), read through their reporting views: percentiles do not
 * add up, so the page shows a period the mart computed, never a mix of its rows.
 */
import { addDays, type IsoDate } from '../../../core/dates.js';
import type { Settings } from '../../../core/settings.js';
import { fmt, headlinePeriod, isTrue, partialSegment, type Block, type Figure, type Insight, type PaletteColor, type ReportPage, type ReportSource, type SummaryContribution } from '../../../report/page.js';
import { addMonths, count, crmAsOf, CURRENCY, hours, hoursText, isoWeekLabel, money, monthLabel, PAGE_IDS, pct, VIEWS } from './common.js';

const TABLE_WEEKS = 8;
const TABLE_MONTHS = 6;
/** A channel is called out as the slowest when its median first response is at least this many times the next one's. */
const SLOWEST_FACTOR = 2;
const CHANNEL_COLORS: PaletteColor[] = ['blue', 'orange', 'green', 'vermillion', 'purple', 'skyBlue'];

interface ChannelMonth {
  channel: string;
  month_start: IsoDate;
  tickets: number;
  responded: number;
  resolved: number;
  first_response_hours_median: number | null;
  first_response_hours_p75: number | null;
  first_response_hours_p95: number | null;
  first_response_hours_mean: number | null;
  resolution_hours_median: number | null;
  resolution_hours_p75: number | null;
  resolution_hours_p95: number | null;
  resolution_hours_mean: number | null;
  csat_answers: number;
  csat_mean: number | null;
  csat_positive_share: number | null;
  sla_decided: number;
  sla_met: number;
  sla_compliance: number | null;
  top_issue_type_1: string | null;
  is_partial_period: boolean;
}

export interface OpsWeek {
  week_start: IsoDate;
  iso_year: number;
  iso_week: number;
  tickets: number;
  median_first_response_hours: number | null;
  median_resolution_hours: number | null;
  csat_answers: number;
  csat_positive_share: number | null;
  sla_violators: number;
  accounts_at_risk: number;
  revenue_at_risk: number;
  is_partial_period: boolean;
}

function channelMonths(source: ReportSource): Promise<ChannelMonth[]> {
  return source.warehouse.query<ChannelMonth>(
    `SELECT channel, month_start, tickets, responded, resolved,
            first_response_hours_median, first_response_hours_p75, first_response_hours_p95, first_response_hours_mean,
            resolution_hours_median, resolution_hours_p75, resolution_hours_p95, resolution_hours_mean,
            csat_answers, csat_mean, csat_positive_share, sla_decided, sla_met, sla_compliance, top_issue_type_1, is_partial_period
     FROM ${VIEWS.supportPerformance}
     ORDER BY month_start, channel`,
  );
}

export function opsWeeks(source: ReportSource): Promise<OpsWeek[]> {
  return source.warehouse.query<OpsWeek>(
    `SELECT week_start, iso_year, iso_week, tickets, median_first_response_hours, median_resolution_hours, csat_answers, csat_positive_share,
            sla_violators, accounts_at_risk, revenue_at_risk, is_partial_period
     FROM ${VIEWS.weeklyOps}
     ORDER BY week_start`,
  );
}

/** The month the per-channel charts show: the latest complete one (or the latest, while none is), and its rows. */
function channelMonth(rows: ChannelMonth[]): { month: IsoDate; partial: boolean; rows: ChannelMonth[] } | undefined {
  const period = headlinePeriod(rows, (r) => r.month_start, (k) => addMonths(k, -1));
  if (!period) return undefined;
  const month = period.current.month_start;
  return { month, partial: isTrue(period.current.is_partial_period), rows: rows.filter((r) => r.month_start === month) };
}

const weekLabel = (w: OpsWeek) => isoWeekLabel(w.iso_year, w.iso_week);
const headlineWeek = (weeks: OpsWeek[]) => headlinePeriod(weeks, (w) => w.week_start, (k) => addDays(k, -7));

/** The weekly operations headlines for the latest complete ISO week, each against the week before. */
export function supportFigures(weeks: OpsWeek[]): Figure[] {
  const { current: w, previous: p } = headlineWeek(weeks)!;
  const label = `the week before (${p ? weekLabel(p) : `from ${addDays(w.week_start, -7)}`})`;
  const previous = (pick: (r: OpsWeek) => number | null) => ({ value: p ? pick(p) : null, label });
  const which = `${weekLabel(w)}${isTrue(w.is_partial_period) ? ' (partial)' : ''}`;
  const span = `the week ${w.week_start} to ${addDays(w.week_start, 6)}`;
  return [
    {
      id: 'crm.median_first_response_week',
      label: `Median first response, ${which}`,
      value: w.median_first_response_hours,
      format: hours,
      previous: previous((r) => r.median_first_response_hours),
      better: 'down',
      note: `${count(w.tickets)} ${w.tickets === 1 ? 'ticket' : 'tickets'} created in ${span}, all channels`,
    },
    { id: 'crm.median_resolution_week', label: `Median resolution, ${which}`, value: w.median_resolution_hours, format: hours, previous: previous((r) => r.median_resolution_hours), better: 'down', note: 'of the tickets resolved' },
    { id: 'crm.csat_positive_week', label: `CSAT positive, ${which}`, value: w.csat_positive_share, format: fmt.percent(1), previous: previous((r) => r.csat_positive_share), better: 'up', note: `score 4 or 5, of ${count(w.csat_answers)} ${w.csat_answers === 1 ? 'answer' : 'answers'}` },
    { id: 'crm.sla_violators_week', label: `SLA breaches, ${which}`, value: w.sla_violators, format: fmt.int, previous: previous((r) => r.sla_violators), better: 'down', note: 'tickets that missed a response or resolution target' },
    {
      id: 'crm.revenue_at_risk_week',
      label: `Revenue at risk, ${which}`,
      value: w.revenue_at_risk,
      format: money,
      previous: previous((r) => r.revenue_at_risk),
      better: 'down',
      note: `52-week revenue of the ${count(w.accounts_at_risk)} ${w.accounts_at_risk === 1 ? 'account' : 'accounts'} with a breach or a CSAT of 1–2 that week (${CURRENCY})`,
    },
  ];
}

const slaRule = (s: Settings) => {
  const h = (t: Record<string, number>) => `urgent ${t.urgent} h, high ${t.high} h, medium ${t.medium} h, low ${t.low} h`;
  return `A ticket meets its SLA when it is answered and resolved within its priority's targets (first response: ${h(s.CRM_SLA_FIRST_RESPONSE_HOURS)}; resolution: ${h(s.CRM_SLA_RESOLUTION_HOURS)}; settings CRM_SLA_FIRST_RESPONSE_HOURS and CRM_SLA_RESOLUTION_HOURS); compliance is met over decided (a ticket still within its targets is not decided yet).`;
};

/** The chart and table of one duration (first response or resolution) per channel: median, P75, P95. */
function durationBlock(month: string, rows: ChannelMonth[], what: 'first_response' | 'resolution'): Block {
  const name = what === 'first_response' ? 'First response' : 'Resolution';
  const col = (stat: 'median' | 'p75' | 'p95' | 'mean') => `${what}_hours_${stat}` as const;
  return {
    kind: 'chart',
    chart: {
      kind: 'bar',
      title: `${name} time by channel, ${month}`,
      description: `${name} time per channel for tickets created in ${month}: median, 75th and 95th percentile in hours`,
      source: VIEWS.supportPerformance,
      x: { label: 'Channel', categories: rows.map((r) => r.channel) },
      y: { label: `${name} time`, unit: 'hours', format: hours },
      series: [
        { name: 'Median', values: rows.map((r) => r[col('median')]), color: 'blue' },
        { name: 'P75', values: rows.map((r) => r[col('p75')]), color: 'skyBlue' },
        { name: 'P95', values: rows.map((r) => r[col('p95')]), color: 'orange' },
      ],
    },
    table: {
      title: `${name} hours by channel, ${month}`,
      source: VIEWS.supportPerformance,
      columns: [
        { key: 'channel', label: 'Channel', format: fmt.text },
        { key: what === 'first_response' ? 'responded' : 'resolved', label: what === 'first_response' ? 'Answered' : 'Resolved', format: fmt.int },
        { key: col('median'), label: 'Median', format: hours },
        { key: col('p75'), label: 'P75', format: hours },
        { key: col('p95'), label: 'P95', format: hours },
        { key: col('mean'), label: 'Mean', format: hours },
      ],
      rows,
      noun: 'channels',
    },
  };
}

export const supportPage: ReportPage = {
  id: PAGE_IDS.support,
  title: 'Support and satisfaction',
  order: 40,
  async build(source) {
    const asOf = await crmAsOf(source);
    const rows = asOf ? await channelMonths(source) : [];
    const cm = channelMonth(rows);
    if (!asOf || !cm) return undefined;
    const weeks = await opsWeeks(source);
    const month = `${monthLabel(cm.month)}${cm.partial ? ' (partial)' : ''}`;
    const channels = [...new Set(rows.map((r) => r.channel))].sort();
    const months = [...new Set(rows.map((r) => r.month_start))].sort();
    const monthPartial = new Set(rows.filter((r) => isTrue(r.is_partial_period)).map((r) => r.month_start));
    const lastMonth = months.at(-1)!;
    const weekRows = weeks
      .slice(-TABLE_WEEKS)
      .reverse()
      .map((w) => ({ ...w, week: `${weekLabel(w)}${isTrue(w.is_partial_period) ? ' (partial)' : ''}` }));
    const weekTable = { source: VIEWS.weeklyOps, rows: weekRows, total: weeks.length, noun: 'weeks', maxRows: TABLE_WEEKS };
    const weekPartial = partialSegment(weeks.map((w) => ({ date: w.week_start, partial: isTrue(w.is_partial_period) })));
    const weekCol = { key: 'week', label: 'ISO week', format: fmt.text };

    const blocks: Block[] = [];
    if (weeks.length > 0) blocks.push({ kind: 'figures', title: 'The latest complete week', figures: supportFigures(weeks) });
    blocks.push(
      durationBlock(month, cm.rows, 'first_response'),
      durationBlock(month, cm.rows, 'resolution'),
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: `CSAT positive by channel, ${month}`,
          description: `Share of answered satisfaction surveys scoring 4 or 5, per channel, tickets created in ${month}`,
          source: VIEWS.supportPerformance,
          x: { label: 'Channel', categories: cm.rows.map((r) => r.channel) },
          y: { label: 'CSAT positive', unit: '%', format: fmt.percent(1), min: 0, max: 1 },
          series: [{ name: 'CSAT positive', values: cm.rows.map((r) => r.csat_positive_share), color: 'green' }],
        },
        table: {
          title: `Satisfaction by channel, ${month}`,
          source: VIEWS.supportPerformance,
          columns: [
            { key: 'channel', label: 'Channel', format: fmt.text },
            { key: 'csat_answers', label: 'Answers', format: fmt.int },
            { key: 'csat_mean', label: 'CSAT mean (1–5)', format: fmt.number(2) },
            { key: 'csat_positive_share', label: 'Positive (4–5)', format: fmt.percent(1) },
          ],
          rows: cm.rows,
          noun: 'channels',
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: `SLA compliance by channel, ${month}`,
          description: `Share of decided tickets that met their SLA, per channel, tickets created in ${month}`,
          source: VIEWS.supportPerformance,
          x: { label: 'Channel', categories: cm.rows.map((r) => r.channel) },
          y: { label: 'SLA met', unit: '%', format: fmt.percent(1), min: 0, max: 1 },
          series: [{ name: 'SLA compliance', values: cm.rows.map((r) => r.sla_compliance), color: 'purple' }],
        },
        table: {
          title: `SLA by channel, ${month}`,
          source: VIEWS.supportPerformance,
          columns: [
            { key: 'channel', label: 'Channel', format: fmt.text },
            { key: 'tickets', label: 'Tickets', format: fmt.int },
            { key: 'sla_decided', label: 'Decided', format: fmt.int },
            { key: 'sla_met', label: 'Met', format: fmt.int },
            { key: 'sla_compliance', label: 'Compliance', format: fmt.percent(1) },
            { key: 'top_issue_type_1', label: 'Top issue', format: fmt.text },
          ],
          rows: cm.rows,
          noun: 'channels',
        },
      },
      {
        kind: 'chart',
        chart: {
          kind: 'line',
          title: 'Median first response by channel, per month',
          description: `Median first-response hours per channel and month of creation, ${monthLabel(months[0]!)} to ${monthLabel(lastMonth)}`,
          source: VIEWS.supportPerformance,
          x: { label: 'Month of creation (UTC)' },
          y: { label: 'Median first response', unit: 'hours', format: hours },
          series: channels.map((c, i) => ({
            name: c,
            color: CHANNEL_COLORS[i % CHANNEL_COLORS.length],
            points: rows.filter((r) => r.channel === c).map((r) => [r.month_start, r.first_response_hours_median] as [IsoDate, number | null]),
          })),
          ...partialSegment(months.map((m) => ({ date: m, partial: monthPartial.has(m) }))),
        },
        table: {
          title: 'Median first response hours by month, latest first',
          source: VIEWS.supportPerformance,
          columns: [{ key: 'month', label: 'Month', format: fmt.text }, ...channels.map((c) => ({ key: `ch_${c}`, label: c, format: hours }))],
          rows: months
            .slice(-TABLE_MONTHS)
            .reverse()
            .map((m) => ({
              month: `${monthLabel(m)}${monthPartial.has(m) ? ' (partial)' : ''}`,
              ...Object.fromEntries(rows.filter((r) => r.month_start === m).map((r) => [`ch_${r.channel}`, r.first_response_hours_median])),
            })),
          total: months.length,
          noun: 'months',
          maxRows: TABLE_MONTHS,
        },
      },
    );
    if (weeks.length > 0) {
      blocks.push(
        {
          kind: 'chart',
          chart: {
            kind: 'line',
            title: 'Tickets and SLA breaches per week',
            description: `Tickets created and tickets that missed their SLA, per ISO week, from ${weeks[0]!.week_start}`,
            source: VIEWS.weeklyOps,
            x: { label: 'Week starting (Monday, UTC)' },
            y: { label: 'Tickets', unit: 'tickets', format: fmt.int },
            series: [
              { name: 'Tickets', points: weeks.map((w) => [w.week_start, w.tickets]), color: 'blue' },
              { name: 'SLA breaches', points: weeks.map((w) => [w.week_start, w.sla_violators]), color: 'vermillion' },
            ],
            ...weekPartial,
          },
          table: {
            ...weekTable,
            title: 'Tickets and SLA per week, latest first',
            columns: [
              weekCol,
              { key: 'tickets', label: 'Tickets', format: fmt.int },
              { key: 'sla_violators', label: 'SLA breaches', format: fmt.int },
              { key: 'revenue_at_risk', label: 'Revenue at risk', format: money },
            ],
          },
        },
        {
          kind: 'chart',
          chart: {
            kind: 'line',
            title: 'Median first response per week',
            description: `Median first-response hours over all channels per ISO week, from ${weeks[0]!.week_start}`,
            source: VIEWS.weeklyOps,
            x: { label: 'Week starting (Monday, UTC)' },
            y: { label: 'Median first response', unit: 'hours', format: hours },
            series: [{ name: 'Median first response', points: weeks.map((w) => [w.week_start, w.median_first_response_hours]), color: 'orange' }],
            ...weekPartial,
          },
          table: {
            ...weekTable,
            title: 'Median hours per week, latest first',
            columns: [
              weekCol,
              { key: 'median_first_response_hours', label: 'First response', format: hours },
              { key: 'median_resolution_hours', label: 'Resolution', format: hours },
            ],
          },
        },
        {
          kind: 'chart',
          chart: {
            kind: 'line',
            title: 'CSAT positive per week',
            description: `Share of answered surveys scoring 4 or 5, per ISO week of ticket creation, from ${weeks[0]!.week_start}`,
            source: VIEWS.weeklyOps,
            x: { label: 'Week starting (Monday, UTC)' },
            y: { label: 'CSAT positive', unit: '%', format: fmt.percent(1), min: 0, max: 1 },
            series: [{ name: 'CSAT positive', points: weeks.map((w) => [w.week_start, w.csat_positive_share]), color: 'green' }],
            ...weekPartial,
          },
          table: {
            ...weekTable,
            title: 'CSAT per week, latest first',
            columns: [weekCol, { key: 'csat_answers', label: 'Answers', format: fmt.int }, { key: 'csat_positive_share', label: 'Positive (4–5)', format: fmt.percent(1) }],
          },
        },
      );
    }
    blocks.push({
      kind: 'note',
      text: `Per-channel figures are for the tickets created in ${month}, the latest month the data covers in full; weekly ones for ISO weeks (Monday to Sunday) of creation. Times are hours from creation to the first response or to resolution, over the tickets answered or resolved; P75 and P95 are continuous percentiles. CSAT positive is a score of 4 or 5 over the answered surveys. ${slaRule(source.settings)}`,
    });
    const from = [months[0]!, weeks[0]?.week_start].filter((d): d is IsoDate => d !== undefined).sort()[0]!;
    return {
      asOf,
      range: { from, to: asOf },
      intro: 'How fast each channel answers and resolves tickets, how satisfied customers are, how often the SLA holds, and the week-by-week trend.',
      blocks,
    };
  },
};

/** Support's share of the executive summary: the latest complete week's headlines, and the slowest channel when one stands out. */
export async function supportSummary(source: ReportSource): Promise<SummaryContribution | undefined> {
  const asOf = await crmAsOf(source);
  const weeks = asOf ? await opsWeeks(source) : [];
  if (!asOf || weeks.length === 0) return undefined;
  const figures = supportFigures(weeks);
  const insights: Insight[] = [];
  const cm = channelMonth(await channelMonths(source));
  if (cm) {
    const ranked = cm.rows.filter((r) => r.first_response_hours_median !== null).sort((a, b) => Number(b.first_response_hours_median) - Number(a.first_response_hours_median));
    const [slowest, next] = ranked;
    // only a clear outlier is news: at least twice the next channel's median
    if (slowest && next && Number(next.first_response_hours_median) > 0 && Number(slowest.first_response_hours_median) >= SLOWEST_FACTOR * Number(next.first_response_hours_median)) {
      insights.push({
        area: 'Support',
        finding: `${slowest.channel[0]!.toUpperCase()}${slowest.channel.slice(1)} answers slowest: a median first response of ${hoursText(slowest.first_response_hours_median)} in ${monthLabel(cm.month)}, against ${hoursText(next.first_response_hours_median)} for ${next.channel}, the next slowest.`,
        evidence: `${count(slowest.responded)} answered tickets; CSAT positive ${pct(slowest.csat_positive_share)} of ${count(slowest.csat_answers)} answers`,
        pageId: PAGE_IDS.support,
      });
    }
  }
  return {
    group: {
      title: 'Support and satisfaction',
      pageId: PAGE_IDS.support,
      asOf,
      range: { from: weeks[0]!.week_start, to: asOf },
      figures: figures.filter((f) => ['crm.median_first_response_week', 'crm.csat_positive_week', 'crm.sla_violators_week'].includes(f.id)),
    },
    insights,
  };
}
