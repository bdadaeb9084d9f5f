/**
 * The executive summary: each domain's headline figures, with their change against the previous
 * period, and the business insight rows, gathered from every domain's `report.summary`. A domain
 * adds its figures and insights there, in its own `report.ts`; nothing here names a domain.
 * Groups and insights follow the tab order of the pages they link to (a domain registered later
 * with an earlier page still comes first), those linking to no page last.
 */
import type { Domain } from '../../domains/domain.js';
import type { ReportPage, SummaryContribution } from '../page.js';

const dateOf = (d: string | Date) => (d instanceof Date ? d.toISOString().slice(0, 10) : d);

/** Items in the tab order of the page each links to (stable: a domain's own order is kept). */
function inPageOrder<T extends { pageId?: string }>(items: T[], order: Map<string, number>): T[] {
  const rank = (t: T) => (t.pageId !== undefined ? (order.get(t.pageId) ?? Infinity) : Infinity);
  return items.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map(({ t }) => t);
}

export function executiveSummaryPage(domains: readonly Domain[]): ReportPage {
  const order = new Map(domains.flatMap((d) => (d.report.pages ?? []).map((p) => [p.id, p.order] as const)));
  return {
    id: 'executive-summary',
    title: 'Executive summary',
    order: 10,
    async build(source) {
      const parts: SummaryContribution[] = [];
      for (const d of domains) {
        const part = await d.report.summary?.(source);
        if (part) parts.push(part);
      }
      if (parts.length === 0) return undefined;
      const groups = inPageOrder(parts.flatMap((p) => (Array.isArray(p.group) ? p.group : [p.group])), order);
      const asOf = groups.map((g) => dateOf(g.asOf)).sort().at(-1)!;
      const from = groups.map((g) => g.range.from).sort()[0]!;
      const to = groups.map((g) => g.range.to).sort().at(-1)!;
      return {
        asOf,
        range: { from, to },
        intro: 'The headline figures of every area with data, each against its previous period, and what stands out. Each area has its own as-of date; its tab has the detail.',
        blocks: [{ kind: 'summary', groups, insights: inPageOrder(parts.flatMap((p) => p.insights), order) }],
      };
    },
  };
}
