/**
 * The executive summary: each domain's headline figures, with their change against the previous
 * period, and the business insight rows, gathered from every domain's `report.summary`. A domain
 * adds its figures and insights there, in its own `report.ts`; nothing here names a domain.
 */
import type { Domain } from '../../domains/domain.js';
import type { ReportPage, SummaryContribution } from '../page.js';

const dateOf = (d: string | Date) => (d instanceof Date ? d.toISOString().slice(0, 10) : d);

export function executiveSummaryPage(domains: readonly Domain[]): ReportPage {
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
      const groups = parts.map((p) => p.group);
      const asOf = groups.map((g) => dateOf(g.asOf)).sort().at(-1)!;
      const from = groups.map((g) => g.range.from).sort()[0]!;
      const to = groups.map((g) => g.range.to).sort().at(-1)!;
      return {
        asOf,
        range: { from, to },
        intro: 'The headline figures of every area with data, each against its previous period, and what stands out. Each area has its own as-of date; its tab has the detail.',
        blocks: [{ kind: 'summary', groups, insights: parts.flatMap((p) => p.insights) }],
      };
    },
  };
}
