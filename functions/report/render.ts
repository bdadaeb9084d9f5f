/**
 * The report as one self-contained HTML document: every page a section, the tabs plain links
 * (`#company-activity`) shown by CSS `:target`, so the document runs no script at all. Styles are
 * one inline `<style>` whose hash is the only style the Content-Security-Policy allows; nothing
 * is loaded from anywhere (no fonts, images or scripts), so the file works offline and the CSP
 * can forbid every fetch.
 */
import { createHash } from 'node:crypto';
import type { DateRange } from '../core/dates.js';
import { renderChart, seriesCount } from './charts.js';
import { formatChange, formatValue, html, Html, isNumeric } from './html.js';
import type { Block, DataTable, Figure, Format, Insight, PageContent, SummaryGroup } from './page.js';

export interface RenderedPage {
  id: string;
  title: string;
  content: PageContent;
}

export interface FailedPage {
  id: string;
  title: string;
  error: string;
}

const DEFAULT_MAX_ROWS = 15;

const asOfText = (d: string | Date) => (d instanceof Date ? formatValue(d, { kind: 'datetime' }) : d);
const rangeText = (r: DateRange) => (r.from === r.to ? r.from : `${r.from} to ${r.to}`);
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function cellClass(format: Format, value: unknown): Html | '' {
  if (isNumeric(format)) return html` class="num"`;
  if (format.kind === 'status') return html` class="status status-${typeof value === 'string' ? value : ''}"`;
  if (format.kind === 'date' || format.kind === 'datetime') return html` class="when"`;
  return '';
}

function tableHtml(t: DataTable): Html {
  const max = t.maxRows ?? DEFAULT_MAX_ROWS;
  const shown = t.rows.slice(0, max);
  const total = Math.max(t.total ?? t.rows.length, t.rows.length);
  const more = total - shown.length;
  const noun = t.noun ?? 'rows';
  return html`<div class="table-wrap">
<table class="data" data-table="${slug(t.title)}">
<caption>${t.title}</caption>
<thead><tr>${t.columns.map((c) => html`<th scope="col"${isNumeric(c.format) ? html` class="num"` : ''}>${c.label}</th>`)}</tr></thead>
<tbody>${
    shown.length === 0
      ? html`<tr><td class="empty" colspan="${t.columns.length}">${t.empty ?? 'None.'}</td></tr>`
      : (shown as Record<string, unknown>[]).map(
          (row) =>
            html`<tr>${t.columns.map((c) => html`<td data-col="${c.key}"${cellClass(c.format, row[c.key])}>${formatValue(row[c.key], c.format)}</td>`)}</tr>`,
        )
  }</tbody>
${more > 0 ? html`<tfoot><tr><td colspan="${t.columns.length}" class="more" data-more="${more}">… and ${more.toLocaleString('en-US')} more ${noun} (${shown.length.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} shown)</td></tr></tfoot>` : ''}
</table>
<p class="source">Source: <code>${t.source}</code></p>
</div>`;
}

function figureHtml(f: Figure, link?: string): Html {
  const change = f.previous ? formatChange(f.value, f.previous.value, f.format, f.better) : undefined;
  const verdict = change && change.tone !== 'flat' ? (change.tone === 'good' ? ' · better' : ' · worse') : '';
  const value = html`<div class="value">${formatValue(f.value, f.format)}</div>`;
  return html`<div class="figure" data-figure="${f.id}">
<div class="label">${link ? html`<a href="#${link}">${f.label}</a>` : f.label}</div>
${value}
${f.previous ? html`<div class="change ${change ? change.tone : 'flat'}">${change ? `${change.text} vs ${f.previous.label}${verdict}` : `no figure for ${f.previous.label}`}</div>` : ''}
${f.note ? html`<div class="note">${f.note}</div>` : ''}
</div>`;
}

function summaryHtml(groups: SummaryGroup[], insights: Insight[]): Html {
  return html`${groups.map(
    (g) => html`<div class="block summary-group" data-domain="${slug(g.title)}">
<h3>${g.pageId ? html`<a href="#${g.pageId}">${g.title}</a>` : g.title}</h3>
<p class="asof">As of ${asOfText(g.asOf)} · data from ${rangeText(g.range)}</p>
<div class="figures">${g.figures.map((f) => figureHtml(f, g.pageId))}</div>
</div>`,
  )}
<div class="block">
<h3>Business insights</h3>
${
  insights.length === 0
    ? html`<p class="empty">No insights yet.</p>`
    : html`<table class="data insights" data-table="business-insights"><caption class="visually-hidden">Business insights</caption>
<thead><tr><th scope="col">Area</th><th scope="col">Finding</th><th scope="col">Evidence</th></tr></thead>
<tbody>${insights.map((i) => html`<tr><td>${i.pageId ? html`<a href="#${i.pageId}">${i.area}</a>` : i.area}</td><td>${i.finding}</td><td>${i.evidence ?? ''}</td></tr>`)}</tbody></table>`
}
</div>`;
}

function blockHtml(b: Block, pageId: string, index: number): Html {
  switch (b.kind) {
    case 'figures':
      return html`<div class="block">${b.title ? html`<h3>${b.title}</h3>` : ''}<div class="figures">${b.figures.map((f) => figureHtml(f))}</div></div>`;
    case 'chart': {
      const partial = (b.chart.kind === 'bar' && (b.chart.partial?.length ?? 0) > 0) || (b.chart.kind === 'line' && b.chart.partial);
      return html`<div class="block chart-block">
<h3>${b.chart.title}</h3>
<div class="chart-row">
<figure class="chart" data-chart="${slug(b.chart.title)}" data-series="${seriesCount(b.chart)}">${renderChart(b.chart, `${pageId}-c${index}`)}
<figcaption>Source: <code>${b.chart.source}</code>${partial ? (b.chart.kind === 'bar' ? ' · * partial period, not complete yet' : ' · shaded: partial period, not complete yet') : ''}</figcaption></figure>
<div class="beside">${tableHtml(b.table)}</div>
</div>
</div>`;
    }
    case 'table':
      return html`<div class="block">${tableHtml(b.table)}</div>`;
    case 'note':
      return html`<div class="block"><p class="note">${b.text}</p></div>`;
    case 'summary':
      return summaryHtml(b.groups, b.insights);
  }
}

function pageHtml(p: RenderedPage): Html {
  return html`<section class="page" id="${p.id}" aria-labelledby="${p.id}-title">
<h2 id="${p.id}-title">${p.title}</h2>
<p class="asof" data-asof="${asOfText(p.content.asOf)}">As of <strong>${asOfText(p.content.asOf)}</strong> · data from <span data-range>${rangeText(p.content.range)}</span></p>
${p.content.intro ? html`<p class="intro">${p.content.intro}</p>` : ''}
${p.content.blocks.map((b, i) => blockHtml(b, p.id, i))}
</section>`;
}

function failedHtml(p: FailedPage): Html {
  return html`<section class="page" id="${p.id}" aria-labelledby="${p.id}-title">
<h2 id="${p.id}-title">${p.title}</h2>
<p class="error" role="alert">This page could not be built: ${p.error}</p>
</section>`;
}

function css(pageIds: string[]): string {
  // the current tab's link is marked by the same :target rule that shows its page. Rules with
  // :has() stand alone: a browser without it drops only them (tabs still work, unmarked).
  const active = pageIds.map((id) => `body:has(#${id}:target) nav a[href="#${id}"]`);
  // no tab chosen yet: the first page shows, so its tab is the current one
  if (pageIds[0]) active.push(`body:not(:has(section.page:target)) nav a[href="#${pageIds[0]}"]`);
  return `
:root{color-scheme:light;--text:#1f2328;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--accent:#0072B2;--good:#00704f;--bad:#a84300}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--text);background:#fff}
header.report{padding:16px 24px 0;border-bottom:1px solid var(--line);background:var(--panel)}
header.report h1{font-size:1.35rem;margin:0}
header.report p{margin:2px 0 12px;color:var(--muted)}
nav.tabs{display:flex;flex-wrap:wrap;gap:4px}
nav.tabs a{padding:7px 14px;border:1px solid var(--line);border-bottom:none;border-radius:6px 6px 0 0;color:var(--accent);text-decoration:none;background:#fff;margin-bottom:-1px}
nav.tabs a:hover{text-decoration:underline}
${active.length ? `${active.join(',\n')}{color:var(--text);font-weight:600;border-bottom:1px solid #fff}` : ''}
main{padding:8px 24px 48px;max-width:1320px}
section.page{display:none}
section.page:target{display:block}
main:not(:has(section.page:target)) section.page:first-of-type{display:block}
h2{font-size:1.3rem;margin:16px 0 0}
h3{font-size:1.05rem;margin:0 0 8px}
.asof{color:var(--muted);margin:2px 0 12px}
.intro{max-width:70ch}
.block{margin:20px 0 28px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px}
.figure{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fff}
.figure .label{color:var(--muted);font-size:.9rem}
.figure .value{font-size:1.7rem;font-weight:600;font-variant-numeric:tabular-nums}
.figure .change{font-size:.85rem}
.figure .change.good{color:var(--good)}
.figure .change.bad{color:var(--bad)}
.figure .change.flat,.figure .note{color:var(--muted);font-size:.85rem}
.chart-row{display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:20px;align-items:start}
@media (max-width:900px){.chart-row{grid-template-columns:minmax(0,1fr)}}
figure.chart{margin:0}
figure.chart svg{width:100%;height:auto;max-width:720px;display:block}
figcaption,.source{color:var(--muted);font-size:.8rem;margin:4px 0 0}
.table-wrap{overflow-x:auto}
table.data{border-collapse:collapse;font-size:.85rem;width:100%}
table.data caption{text-align:left;font-weight:600;padding:0 0 6px}
table.data th,table.data td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
table.data th{background:var(--panel)}
table.data .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.data .when,table.data .status{white-space:nowrap}
table.data td.more,table.data td.empty,p.empty{color:var(--muted);font-style:italic}
.status-error,.status-failed{color:var(--bad);font-weight:600}
.status-warn{color:#8a5a00;font-weight:600}
.status-pass,.status-succeeded{color:var(--good)}
.error{color:var(--bad);font-weight:600}
code{font-size:.9em}
footer{color:var(--muted);font-size:.8rem;padding:0 24px 24px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media print{nav.tabs{display:none}section.page{display:block!important;break-before:page}}
`;
}

/** `sha256-…` of a `<style>` element's text, as a CSP source. */
export function styleHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The report's Content-Security-Policy: nothing may load or run; the one inline style block is
 * allowed by its hash. `header` adds what only an HTTP header can carry (frame-ancestors).
 */
export function contentSecurityPolicy(styleText: string, header = false): string {
  return [`default-src 'none'`, `style-src ${styleHash(styleText)}`, `base-uri 'none'`, `form-action 'none'`, ...(header ? [`frame-ancestors 'none'`] : [])].join('; ');
}

export interface RenderedReport {
  html: string;
  /** The CSP to send with it as an HTTP header. */
  csp: string;
}

export function renderDocument(pages: (RenderedPage | FailedPage)[], meta: { title: string; asOf?: string | Date; range?: DateRange }): RenderedReport {
  const style = css(pages.map((p) => p.id));
  const metaCsp = contentSecurityPolicy(style);
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${metaCsp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${meta.title}</title>
<style>${new Html(style)}</style>
</head>
<body>
<header class="report">
<h1>${meta.title}</h1>
<p>${meta.asOf ? html`Data as of <strong>${asOfText(meta.asOf)}</strong>${meta.range ? ` · from ${rangeText(meta.range)}` : ''}` : 'No data yet: run the pipeline first (npm start, or an upload in Azure).'}</p>
<nav class="tabs" aria-label="Pages">${pages.map((p) => html`<a href="#${p.id}">${p.title}</a>`)}</nav>
</header>
<main>
${pages.map((p) => ('content' in p ? pageHtml(p) : failedHtml(p)))}
</main>
<footer>Every figure is read by SQL from the warehouse's <code>reporting</code> views and marts (the ones Power BI reads) and its <code>ops</code> tables; a page appears once its domain has data.</footer>
</body>
</html>
`;
  return { html: body.text, csp: contentSecurityPolicy(style, true) };
}
