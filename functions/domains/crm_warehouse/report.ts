/**
 * The CRM warehouse's pages in the HTML report, and its share of the executive summary
 * (docs/report.md). One file per page under `report/`, each with the summary figures of its own
 * area; every number is read from the `reporting.crm_*` views Power BI reads, and each page is left
 * out while its marts are empty:
 *
 *   20 Revenue and products       report/revenue.ts        mtr_revenue_by_month, _by_year, mtr_product_performance
 *   40 Support and satisfaction   report/support.ts        mtr_support_performance, mtr_weekly_ops
 *   50 Sales pipeline             report/salesPipeline.ts  mtr_sales_pipeline, crm_deal_outcomes_by_month
 *
 * (30, Customers, is the customer analytics domain's page.)
 */
import type { DomainReport, SummaryContribution } from '../../report/page.js';
import { revenuePage, revenueSummary } from './report/revenue.js';
import { pipelineSummary, salesPipelinePage } from './report/salesPipeline.js';
import { supportPage, supportSummary } from './report/support.js';

export const crmReport: DomainReport = {
  pages: [revenuePage, supportPage, salesPipelinePage],
  /** A group of headline figures per page with data, and each area's insights. */
  async summary(source) {
    const parts: SummaryContribution[] = [];
    for (const summary of [revenueSummary, supportSummary, pipelineSummary]) {
      const part = await summary(source);
      if (part) parts.push(part);
    }
    if (parts.length === 0) return undefined;
    return { group: parts.flatMap((p) => (Array.isArray(p.group) ? p.group : [p.group])), insights: parts.flatMap((p) => p.insights) };
  },
};
