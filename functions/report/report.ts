/**
 * The HTML report: the executive summary, every domain's pages (`defineDomain({ report })`) and
 * pipeline health, each built from the warehouse and left out while its domain has no data,
 * rendered into one self-contained document (`render.ts`). `npm run report` writes it to
 * `.local/report/index.html`; in Azure the transform writes it to the `reports` container after
 * each successful run (`publish.ts`) and `GET /api/report` serves it.
 */
import type { DateRange, IsoDate } from '../core/dates.js';
import type { Domain } from '../domains/domain.js';
import { DOMAINS } from '../domains/registry.js';
import { executiveSummaryPage } from './pages/executiveSummary.js';
import { pipelineHealthPage } from './pages/pipelineHealth.js';
import type { PageContent, ReportPage, ReportSource } from './page.js';
import { renderDocument, type FailedPage, type RenderedPage } from './render.js';

export const REPORT_TITLE = 'Analytics report';

/** Every page of the report, in tab order; page ids are checked here (unique, anchor-safe). */
export function reportPages(domains: readonly Domain[] = DOMAINS): ReportPage[] {
  const pages = [executiveSummaryPage(domains), ...domains.flatMap((d) => d.report.pages ?? []), pipelineHealthPage];
  const seen = new Set<string>();
  for (const p of pages) {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(p.id)) throw new Error(`report page "${p.id}": the id must be lower-case words joined by hyphens`);
    if (seen.has(p.id)) throw new Error(`report page "${p.id}" is declared twice`);
    seen.add(p.id);
  }
  return pages.map((p, i) => ({ p, i })).sort((a, b) => a.p.order - b.p.order || a.i - b.i).map(({ p }) => p);
}

export interface BuiltPage {
  id: string;
  title: string;
  asOf: string;
  range: DateRange;
  ms: number;
}

export interface ReportResult {
  html: string;
  /** The Content-Security-Policy to serve it with. */
  csp: string;
  bytes: number;
  ms: number;
  /** The latest business date across the pages (the header's "as of"), when any page has data. */
  asOf?: IsoDate;
  pages: BuiltPage[];
  /** Pages left out: their domain has no data yet. */
  withoutData: { id: string; title: string }[];
  /** Pages whose build failed: shown with the error, and listed here for the caller to log. */
  failed: FailedPage[];
}

/** Builds every page from the warehouse and renders the document. Never throws for one page's failure. */
export async function buildReport(source: ReportSource, pages: ReportPage[] = reportPages()): Promise<ReportResult> {
  const started = performance.now();
  const rendered: (RenderedPage | FailedPage)[] = [];
  const built: BuiltPage[] = [];
  const withoutData: ReportResult['withoutData'] = [];
  const failed: FailedPage[] = [];
  for (const page of pages) {
    const t = performance.now();
    let content: PageContent | undefined;
    try {
      content = await page.build(source);
    } catch (err) {
      const f = { id: page.id, title: page.title, error: err instanceof Error ? err.message : String(err) };
      failed.push(f);
      rendered.push(f);
      continue;
    }
    if (!content) {
      withoutData.push({ id: page.id, title: page.title });
      continue;
    }
    rendered.push({ id: page.id, title: page.title, content });
    const asOf = content.asOf instanceof Date ? content.asOf.toISOString() : content.asOf;
    built.push({ id: page.id, title: page.title, asOf, range: content.range, ms: Math.round(performance.now() - t) });
  }
  // the header's date: the business pages' latest date (pipeline health's times are not business data)
  const business = rendered.flatMap((p) => ('content' in p && !(p.content.asOf instanceof Date) ? [p.content] : []));
  const asOf = business.map((c) => c.asOf as IsoDate).sort().at(-1);
  const range = business.length ? { from: business.map((c) => c.range.from).sort()[0]!, to: business.map((c) => c.range.to).sort().at(-1)! } : undefined;
  const doc = renderDocument(rendered, { title: REPORT_TITLE, ...(asOf ? { asOf } : {}), ...(range ? { range } : {}) });
  return {
    html: doc.html,
    csp: doc.csp,
    bytes: Buffer.byteLength(doc.html, 'utf8'),
    ms: Math.round(performance.now() - started),
    ...(asOf ? { asOf } : {}),
    pages: built,
    withoutData,
    failed,
  };
}
