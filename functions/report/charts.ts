/**
 * Charts drawn on the server: a page's chart spec becomes an Apache ECharts option, rendered to
 * an SVG string by ECharts' server-side renderer (`ssr: true`, `renderToSVGString`). The browser
 * runs no script; it only paints the SVG.
 *
 * The SVG is then made fit for a strict Content-Security-Policy and for a page holding several
 * charts: inline `style` attributes become presentation attributes (a CSP without
 * 'unsafe-inline' would block them), the hover `<style>` block goes, and each chart's ids get a
 * prefix of their own. Finally every element and link is checked against an allow-list, so the
 * chart can neither run anything nor fetch anything.
 */
import { createRequire } from 'node:module';
import type * as EChartsCore from 'echarts/core';
import { escapeHtml, Html } from './html.js';
import type { BarChart, Chart, Format, HeatmapChart, LineChart, PaletteColor, ValueAxis } from './page.js';

/**
 * ECharts' one-file build, not its modules: importing `echarts/core` with the charts, components
 * and renderer used here reads some 500 files (0.41 s on plain Node, 0.84 s under tsx, on every
 * cold start of a report), the bundle one (0.07 s and 0.09 s). Same library, same SVG (compared
 * byte for byte on a bar, line, mark area and heatmap chart).
 */
const echarts = createRequire(import.meta.url)('echarts/dist/echarts.min.js') as typeof EChartsCore;

/** Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), and a neutral grey. */
export const PALETTE: Record<PaletteColor, string> = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  skyBlue: '#56B4E9',
  yellow: '#F0E442',
  grey: '#8C8C8C',
};
const SERIES_ORDER: PaletteColor[] = ['blue', 'orange', 'green', 'vermillion', 'purple', 'skyBlue', 'yellow', 'grey'];
/** Every colour a series can be drawn in: with `[data-mark]` (bars, cells, symbols), how the browser test finds a chart's lines. */
export const SERIES_COLORS: readonly string[] = SERIES_ORDER.map((c) => PALETTE[c]);
/**
 * A one-hue sequential scale for heatmaps (near white to a mid blue): ordered by lightness, so it
 * reads the same in every colour vision, and light enough for dark cell labels throughout.
 */
const SEQUENTIAL = ['#F2F7FB', '#5AA9DC'];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
const TEXT = '#1f2328';
const MUTED = '#57606a';
const WIDTH = 640;
const HEIGHT = 300;
const DAY_MS = 86_400_000;

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** An axis's tick label: compact (12K), percentages as percent. */
function tick(format: Format): (value: number) => string {
  if (format.kind === 'percent') return (v) => `${compact.format(v * 100)} %`;
  return (v) => compact.format(v);
}

const axisTitle = (a: ValueAxis) => `${a.label} (${a.unit})`;
const colorOf = (i: number, named?: PaletteColor) => PALETTE[named ?? SERIES_ORDER[i % SERIES_ORDER.length]!];

function base(legend: boolean): Record<string, unknown> {
  return {
    animation: false,
    useUTC: true,
    textStyle: { fontFamily: FONT, fontSize: 12, color: TEXT },
    legend: legend ? { top: 0, left: 'center', itemGap: 16, textStyle: { color: TEXT } } : { show: false },
  };
}

const valueAxis = (a: ValueAxis, position?: 'left' | 'right') => ({
  type: 'value',
  name: axisTitle(a),
  nameLocation: 'end',
  nameGap: 12,
  nameTextStyle: { color: MUTED, align: position === 'right' ? 'right' : 'left' },
  axisLabel: { formatter: tick(a.format), color: MUTED },
  // a second axis (on the right) draws no grid of its own: two sets of lines that do not meet mislead
  splitLine: position === 'right' ? { show: false } : { lineStyle: { color: '#e5e8eb' } },
  ...(position ? { position } : {}),
  ...(a.min !== undefined ? { min: a.min } : {}),
  ...(a.max !== undefined ? { max: a.max } : {}),
});

/** Plot width a vertical bar chart's categories share (the chart less its grid's margins and axis labels). */
const PLOT_WIDTH = WIDTH - 100;
/** Up to this many categories are all labelled (wrapped or slanted to fit), rather than thinned out. */
const LABEL_ALL_CATEGORIES = 12;
/** A generous average width of a character of the 12 px axis font. */
const CHAR_PX = 7;

/**
 * How a vertical bar chart labels a few categories that do not fit their band on one line: names
 * of several words break onto lines at spaces when every word fits the band ("Support plans");
 * otherwise each is slanted. Many categories (months) are thinned out instead; short ones need nothing.
 */
function categoryLabels(c: BarChart): { axisLabel: Record<string, unknown>; extra: number } | undefined {
  const n = c.x.categories.length;
  if (c.horizontal || n === 0 || n > LABEL_ALL_CATEGORIES) return undefined;
  const band = Math.floor(PLOT_WIDTH / n) - 6;
  const longest = Math.max(...c.x.categories.map((k) => k.length)) * CHAR_PX;
  if (longest <= band) return undefined;
  const longestWord = Math.max(...c.x.categories.flatMap((k) => k.split(/\s+/).map((w) => w.length))) * CHAR_PX;
  if (longestWord <= band) {
    const lines = Math.max(...c.x.categories.map((k) => Math.ceil((k.length * CHAR_PX) / band)));
    return { axisLabel: { interval: 0, width: band, overflow: 'break' }, extra: (lines - 1) * 14 };
  }
  return { axisLabel: { interval: 0, rotate: 30 }, extra: Math.ceil(longest * 0.4) };
}

function lineOption(c: LineChart): Record<string, unknown> {
  return {
    ...base(c.series.length > 1),
    grid: { left: 16, right: 24, top: c.series.length > 1 ? 60 : 44, bottom: 40 },
    xAxis: {
      type: 'time',
      name: c.x.label,
      nameLocation: 'middle',
      nameGap: 28,
      nameTextStyle: { color: MUTED },
      minInterval: DAY_MS,
      splitNumber: 6,
      axisLabel: { formatter: { year: '{yyyy}', month: '{MMM} {yyyy}', day: '{d} {MMM}' }, hideOverlap: true, color: MUTED },
    },
    yAxis: valueAxis(c.y),
    series: c.series.map((s, i) => ({
      type: 'line',
      name: s.name,
      data: s.points,
      color: colorOf(i, s.color),
      showSymbol: s.points.length <= 31,
      symbolSize: 5,
      lineStyle: { width: 2 },
      ...(c.area ? { areaStyle: { opacity: 0.15 } } : {}),
      ...(c.partial && i === 0
        ? { markArea: { silent: true, itemStyle: { color: 'rgba(140,140,140,0.15)' }, label: { color: MUTED, position: 'insideTop' }, data: [[{ name: 'partial', xAxis: c.partial.from }, { xAxis: c.partial.to }]] } }
        : {}),
    })),
  };
}

function barOption(c: BarChart): Record<string, unknown> {
  const partial = new Set(c.partial ?? []);
  // a few categories too long for their band: wrapped or slanted, every one shown
  const labels = categoryLabels(c);
  const categoryAxis = {
    type: 'category',
    data: c.x.categories,
    name: c.x.label,
    nameLocation: 'middle',
    nameGap: c.horizontal ? 0 : 28 + (labels?.extra ?? 0),
    nameTextStyle: { color: MUTED },
    axisLabel: {
      color: MUTED,
      hideOverlap: true,
      formatter: (v: string) => (partial.has(v) ? `${v}*` : v),
      ...labels?.axisLabel,
    },
    ...(c.horizontal ? { inverse: true, name: '' } : {}),
  };
  // horizontal: the value axis runs along the bottom, its title under it
  const values = c.horizontal ? { ...valueAxis(c.y), nameLocation: 'middle', nameGap: 28, nameTextStyle: { color: MUTED } } : valueAxis(c.y);
  const longest = Math.max(0, ...c.x.categories.map((k) => k.length));
  return {
    ...base(c.series.length > 1 || c.line !== undefined),
    grid: {
      left: 16,
      right: c.line ? 16 : 24,
      top: c.series.length > 1 || c.line ? 60 : 44,
      bottom: 40 + (labels?.extra ?? 0),
      ...(c.horizontal ? { left: Math.min(240, 24 + longest * 7) } : {}),
    },
    xAxis: c.horizontal ? values : categoryAxis,
    yAxis: c.horizontal ? categoryAxis : c.line ? [values, valueAxis(c.line.axis, 'right')] : values,
    series: [
      ...c.series.map((s, i) => ({
        type: 'bar',
        name: s.name,
        color: colorOf(i, s.color),
        ...(c.stacked ? { stack: 'total' } : {}),
        barMaxWidth: 48,
        data: s.values.map((v, j) => (partial.has(c.x.categories[j]!) ? { value: v, itemStyle: { opacity: 0.45 } } : v)),
      })),
      ...(c.line
        ? [{ type: 'line', name: c.line.name, yAxisIndex: 1, data: c.line.values, color: colorOf(c.series.length, c.line.color), symbolSize: 5, lineStyle: { width: 2 } }]
        : []),
    ],
  };
}

function heatmapOption(c: HeatmapChart): Record<string, unknown> {
  const values = c.cells.map((cell) => cell[2]).filter((v): v is number => v !== null);
  const show = c.cells.length <= 400;
  const label = tick(c.value.format);
  return {
    ...base(false),
    grid: { left: Math.min(240, 24 + Math.max(0, ...c.y.categories.map((k) => k.length)) * 7), right: 24, top: 36, bottom: 72 },
    xAxis: { type: 'category', data: c.x.categories, name: c.x.label, nameLocation: 'middle', nameGap: 26, nameTextStyle: { color: MUTED }, axisLabel: { color: MUTED, hideOverlap: true }, splitArea: { show: false } },
    yAxis: { type: 'category', data: c.y.categories, inverse: true, name: c.y.label, nameLocation: 'start', nameTextStyle: { color: MUTED, align: 'left' }, axisLabel: { color: MUTED } },
    visualMap: {
      type: 'continuous',
      min: values.length ? Math.min(...values) : 0,
      max: values.length ? Math.max(...values) : 1,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 200,
      text: [label(values.length ? Math.max(...values) : 1), `${axisTitle(c.value)}  ${label(values.length ? Math.min(...values) : 0)}`],
      textStyle: { color: MUTED },
      inRange: { color: SEQUENTIAL },
      calculable: false,
    },
    series: [
      {
        type: 'heatmap',
        name: c.value.label,
        data: c.cells,
        label: { show, formatter: (p: { value: [number, number, number | null] }) => (p.value[2] === null ? '' : label(p.value[2])), color: TEXT, fontSize: 10 },
        itemStyle: { borderColor: '#fff', borderWidth: 1 },
      },
    ],
  };
}

function optionOf(c: Chart): Record<string, unknown> {
  if (c.kind === 'line') return lineOption(c);
  if (c.kind === 'bar') return barOption(c);
  return heatmapOption(c);
}

function heightOf(c: Chart): number {
  if (c.kind === 'heatmap') return Math.min(900, 140 + c.y.categories.length * 26);
  if (c.kind === 'bar' && c.horizontal) return Math.min(900, 100 + c.x.categories.length * 28);
  return HEIGHT;
}

/** The elements ECharts' SVG output may hold: drawing only, nothing that runs or fetches. */
const ALLOWED_ELEMENTS = new Set(['svg', 'g', 'path', 'text', 'tspan', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon', 'defs', 'clippath', 'lineargradient', 'radialgradient', 'stop', 'title']);

/** `font: normal bold 12px sans-serif` → its parts (the only shorthand zrender writes). */
function fontShorthand(value: string): [string, string][] {
  const m = /^\s*(?:(normal|italic|oblique)\s+)?(?:(normal|bold|bolder|lighter|\d{3})\s+)?(\d+(?:\.\d+)?px)\s+(.+?)\s*$/.exec(value);
  if (!m) throw new Error(`chart SVG: a font shorthand the report cannot convert: "${value}"`);
  return [
    ['font-style', m[1] ?? 'normal'],
    ['font-weight', m[2] ?? 'normal'],
    ['font-size', m[3]!],
    ['font-family', m[4]!],
  ];
}

/** `style="a:b;c:d"` → `a="b" c="d"`: SVG presentation attributes, which a strict CSP allows. */
function styleToAttributes(style: string): string {
  const attrs: [string, string][] = [];
  for (const decl of style.replace(/&quot;/g, '"').split(';')) {
    const i = decl.indexOf(':');
    if (i < 0) continue;
    const name = decl.slice(0, i).trim().toLowerCase();
    const value = decl.slice(i + 1).trim();
    if (!/^[a-z-]+$/.test(name)) throw new Error(`chart SVG: an unexpected style property "${name}"`);
    if (name === 'font') attrs.push(...fontShorthand(value));
    else attrs.push([name, value]);
  }
  return attrs.map(([n, v]) => `${n}="${escapeHtml(v)}"`).join(' ');
}

/** ECharts' SVG made safe and self-contained for one page holding many charts (see the file comment). */
export function cleanSvg(svg: string, idPrefix: string): string {
  let out = svg
    .replace(/<style[^>]*>[\s\S]*?<\/style>/g, '')
    .replace(/ class="zr\d+-cls-\d+"/g, '')
    // a data item's element (a bar, a cell, a symbol) keeps one marker: tests find drawn data by it
    .replace(/ ecmeta_series_index="\d+" ecmeta_data_index="\d+" ecmeta_ssr_type="chart"/g, ' data-mark=""')
    .replace(/ ecmeta_[a-z_]+="[^"]*"/g, '')
    .replace(/\bzr\d+-/g, `${idPrefix}-`)
    .replace(/ style="([^"]*)"/g, (_m, style: string) => ` ${styleToAttributes(style)}`);
  out = out.replace(/>\s*\n\s*</g, '><');
  for (const m of out.matchAll(/<\/?([a-zA-Z][\w:-]*)/g)) {
    if (!ALLOWED_ELEMENTS.has(m[1]!.toLowerCase())) throw new Error(`chart SVG: an element the report does not allow: <${m[1]}>`);
  }
  if (/\son[a-z]+\s*=/i.test(out)) throw new Error('chart SVG: an event handler attribute');
  for (const m of out.matchAll(/(?:xlink:)?href\s*=\s*"([^"]*)"/g)) {
    if (!m[1]!.startsWith('#')) throw new Error(`chart SVG: a link out of the document: ${m[1]}`);
  }
  for (const m of out.matchAll(/url\(([^)]*)\)/g)) {
    if (!m[1]!.trim().startsWith('#')) throw new Error(`chart SVG: a url() out of the document: ${m[1]}`);
  }
  return out;
}

let chartCount = 0;

/**
 * The chart as an inline SVG element: its title for screen readers, role `img`. `idPrefix` keeps
 * the ids of its clip paths apart from every other chart's on the page.
 */
export function renderChart(chart: Chart, idPrefix = `chart${++chartCount}`): Html {
  const height = heightOf(chart);
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  try {
    instance.setOption(optionOf(chart));
    const svg = cleanSvg(instance.renderToSVGString(), idPrefix);
    const label = escapeHtml(chart.description ?? chart.title);
    return new Html(svg.replace(/^<svg\b/, `<svg role="img" aria-label="${label}" preserveAspectRatio="xMidYMid meet"`).replace(/^(<svg\b[^>]*>)/, `$1<title>${label}</title>`));
  } finally {
    instance.dispose();
  }
}

/** How many series a chart draws (its legend's entries): the browser test wants more marks than that. */
export function seriesCount(chart: Chart): number {
  if (chart.kind === 'heatmap') return 1;
  return chart.series.length + (chart.kind === 'bar' && chart.line ? 1 : 0);
}
