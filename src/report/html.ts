/**
 * The self-contained HTML backtest report: one file that opens offline (file://) with no
 * request to anywhere. uPlot's script and stylesheet are inlined from node_modules at
 * render time, the data travels as JSON in a `<script type="application/json">` tag, the
 * tables are plain escaped HTML (readable without JavaScript and in print), and a small
 * inline script draws the charts. A Content-Security-Policy allows only the two inline
 * scripts (by hash), so neither a network request nor an injected script can run even if
 * a string slipped past escaping.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { PAGE_SCRIPT } from './page-script.js';
import { REPORT_FORMAT_VERSION, type BacktestReportData, type MaterialReport } from './types.js';

/** Chart kinds drawn per material, in page order; the hedge chart comes after the materials. */
const MATERIAL_CHARTS = [
  { kind: 'price', heading: 'Price, moving averages and trades' },
  { kind: 'inventory', heading: 'Inventory against buffer stock and reorder point' },
  { kind: 'unit-cost', heading: 'Cumulative effective unit cost against the baselines' },
] as const;

/** Rows above which a denials or stockouts table starts collapsed. */
const OPEN_TABLE_MAX_ROWS = 25;

/**
 * Renders the report as one HTML document. Validates the series first (equal column
 * lengths, increasing times, finite numbers) and throws an InputError naming the field,
 * e.g. `materials[1].price.close[812]`, rather than drawing a broken chart.
 */
export function renderReportHtml(data: BacktestReportData): string {
  validateReportData(data);
  const uplot = loadUplot();
  const dataJson = jsonForScriptTag(data);
  const chartIds = materialChartIds(data.materials);
  const csp = [
    "default-src 'none'",
    `script-src ${scriptHash(uplot.js)} ${scriptHash(PAGE_SCRIPT)}`,
    "style-src 'unsafe-inline'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const materialSections = data.materials
    .map((material, index) => renderMaterial(material, index, chartIds[index] ?? `material-${index + 1}`))
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="procura">
<meta name="procura-report-format" content="${REPORT_FORMAT_VERSION}">
<title>${escapeHtml(data.title)}</title>
<style>${uplot.css}</style>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.title)}</h1>
${renderScenario(data)}
</header>
<main>
${data.warnings === undefined || data.warnings.length === 0 ? '' : `<section id="warnings" class="warnings">\n<h2>Warnings</h2>\n<ul>\n${data.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('\n')}\n</ul>\n</section>`}
<section id="summary">
<h2>Summary</h2>
${renderTable(['', ...data.summary.columns], data.summary.rows.map((row) => [row.label, ...row.values]), 'summary')}
</section>
<section id="assumptions">
<h2>Simulated venue assumptions</h2>
${data.assumptions.length === 0 ? '<p class="none">None stated.</p>' : `<ul>\n${data.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('\n')}\n</ul>`}
</section>
${materialSections}
<section id="hedge">
<h2>Hedge</h2>
${data.hedgePnl === null ? '<p class="none">The strategy does not hedge.</p>' : `<h3>Cumulative hedge P&amp;L, realised plus marked to market</h3>\n${chartContainer('hedge-pnl', 'hedge-pnl', null)}`}
</section>
${renderSweep(data)}
<section id="stockouts">
<h2>Stockouts</h2>
${renderList(
  ['Date', 'Material', 'Quantity short', 'Emergency purchase'],
  data.stockouts.map((s) => [s.date, s.material, s.qty, s.emergencyCost]),
  'stockout',
)}
</section>
<section id="denials">
<h2>Risk denials</h2>
${renderList(
  ['Date', 'Subject', 'Rule', 'Detail'],
  data.denials.map((d) => [d.date, d.subject, d.rule, d.detail]),
  'denial',
)}
</section>
</main>
<noscript><p>The charts need JavaScript; every table above reads without it.</p></noscript>
<script type="application/json" id="report-data">${dataJson}</script>
<script>${uplot.js}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** Writes the report to `path` atomically (readers never see half a file). */
export function writeReport(path: string, data: BacktestReportData): void {
  writeFileAtomic(path, renderReportHtml(data));
}

/**
 * The number of charts a report for `data` draws: three per material plus the hedge
 * chart when there is hedge data. The page sets `data-charts-rendered` to this number.
 */
export function expectedChartCount(data: BacktestReportData): number {
  return data.materials.length * MATERIAL_CHARTS.length + (data.hedgePnl === null ? 0 : 1);
}

/** Escapes text for HTML content and quoted attribute values (line separators too, so no raw U+2028/2029 reach the file). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\u2028\u2029]/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '\u2028': '&#x2028;',
  '\u2029': '&#x2029;',
};

/**
 * JSON that is safe inside a `<script>` element: every `<` becomes `\u003c` (so neither
 * `</script` nor `<!--` can appear) and U+2028/U+2029 are escaped. JSON.parse of the
 * element's text gives back exactly `value`.
 */
export function jsonForScriptTag(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Chart-id stems for the materials: the id lower-cased to [a-z0-9-], made unique. */
export function materialChartIds(materials: readonly MaterialReport[]): string[] {
  const used = new Set<string>();
  return materials.map((material, index) => {
    const base = material.id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || `material-${index + 1}`;
    let id = base;
    for (let n = 2; used.has(id); n += 1) id = `${base}-${n}`;
    used.add(id);
    return id;
  });
}

function renderScenario(data: BacktestReportData): string {
  const s = data.scenario;
  const items: [string, string][] = [
    ['Scenario', s.name],
    ['File', s.file],
    ['Strategy', s.strategy],
    ['Period', `${s.from} to ${s.to}`],
    ['Seed', String(s.seed)],
    ['Config hash', s.configHash],
  ];
  return `<dl class="scenario">\n${items.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('\n')}\n</dl>`;
}

function renderMaterial(material: MaterialReport, index: number, chartId: string): string {
  const counts = new Map<string, number>();
  for (const trade of material.trades) {
    const key = `${trade.side} ${trade.reason}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const tradeText =
    counts.size === 0
      ? 'No trades.'
      : `Trades: ${[...counts].map(([key, n]) => `${n} ${key}`).join(', ')}. Hover the chart for each fill's reason, quantity and price.`;
  const charts = MATERIAL_CHARTS.map(
    (chart) => `<h3>${escapeHtml(chart.heading)}</h3>\n${chartContainer(`${chart.kind}-${chartId}`, chart.kind, index)}`,
  ).join('\n');
  return `<section class="material" id="material-${chartId}">
<h2>${escapeHtml(material.name)} <span class="unit">(${escapeHtml(material.unit)})</span></h2>
<p class="trades">${escapeHtml(tradeText)}</p>
${charts}
</section>`;
}

function chartContainer(chartId: string, kind: string, materialIndex: number | null): string {
  const material = materialIndex === null ? '' : ` data-material="${materialIndex}"`;
  return `<div class="chart" id="chart-${chartId}" data-chart="${chartId}" data-kind="${kind}"${material}></div>`;
}

function renderSweep(data: BacktestReportData): string {
  if (data.sweep === null) return '';
  const sweep = data.sweep;
  return `<section id="sweep">
<h2>Parameter sweep</h2>
<p>${escapeHtml(sweep.description)}</p>
${renderTable(['Rank', 'Parameters', ...sweep.columns], sweep.rows.map((row) => [String(row.rank), row.params, ...row.values]), 'sweep')}
</section>`;
}

function renderList(headings: string[], rows: (string | null)[][], noun: string): string {
  if (rows.length === 0) return `<p class="none">No ${noun}s.</p>`;
  const open = rows.length <= OPEN_TABLE_MAX_ROWS ? ' open' : '';
  return `<details${open}><summary>${rows.length} ${noun}${rows.length === 1 ? '' : 's'}</summary>
${renderTable(headings, rows, noun)}
</details>`;
}

/** A table whose first column is a label and the others values (right-aligned). */
function renderTable(headings: string[], rows: (string | null)[][], className: string): string {
  const head = `<tr>${headings.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((cells) => `<tr>${cells.map((cell, i) => (i === 0 ? `<th scope="row">${escapeHtml(cell ?? '\u2013')}</th>` : `<td>${escapeHtml(cell ?? '\u2013')}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table class="${className}">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`;
}

function scriptHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

interface UplotAssets {
  readonly js: string;
  readonly css: string;
}

let uplotCache: UplotAssets | undefined;

/**
 * uPlot's minified script and stylesheet from the installed package. The script's banner
 * comment carries the project's URL; it is replaced by a banner with the licence but no
 * URL, so the report holds no external address at all.
 */
function loadUplot(): UplotAssets {
  if (uplotCache) return uplotCache;
  const packageJsonPath = createRequire(import.meta.url).resolve('uplot/package.json');
  const root = dirname(packageJsonPath);
  const version = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version?: unknown }).version;
  const banner = `/*! uPlot ${typeof version === 'string' ? version : ''}, MIT License, Copyright (c) 2022 Leon Sorokin */\n`;
  const js = banner + readFileSync(join(root, 'dist', 'uPlot.iife.min.js'), 'utf8').replace(/^\/\*![^]*?\*\/\s*/, '');
  const css = readFileSync(join(root, 'dist', 'uPlot.min.css'), 'utf8');
  for (const [name, text] of [['uPlot.iife.min.js', js], ['uPlot.min.css', css], ['page script', PAGE_SCRIPT]] as const) {
    if (/<\/(script|style)|<!--/i.test(text)) throw new Error(`${name} contains a sequence that would end its inline element early`);
  }
  uplotCache = { js, css };
  return uplotCache;
}

/** Checks what the charts rely on; tables are printed as given. */
function validateReportData(data: BacktestReportData): void {
  data.materials.forEach((m, i) => {
    const at = `materials[${i}]`;
    checkSeries(`${at}.price`, m.price.t, { close: [m.price.close, false], fastMa: [m.price.fastMa, true], slowMa: [m.price.slowMa, true] });
    checkSeries(`${at}.inventory`, m.inventory.t, {
      onHand: [m.inventory.onHand, false],
      buffer: [m.inventory.buffer, true],
      reorderPoint: [m.inventory.reorderPoint, true],
    });
    checkSeries(`${at}.unitCost`, m.unitCost.t, {
      strategy: [m.unitCost.strategy, true],
      jit: [m.unitCost.jit, true],
      schedule: [m.unitCost.schedule, true],
    });
    m.trades.forEach((trade, k) => {
      const field = `${at}.trades[${k}]`;
      if (!Number.isFinite(trade.t)) throw new InputError(`expected a time in epoch milliseconds, got ${String(trade.t)}`, { field: `${field}.t` });
      if (!Number.isFinite(trade.price)) throw new InputError(`expected a finite price, got ${String(trade.price)}`, { field: `${field}.price` });
      if (!Number.isFinite(trade.qty)) throw new InputError(`expected a finite quantity, got ${String(trade.qty)}`, { field: `${field}.qty` });
      if (trade.side !== 'buy' && trade.side !== 'sell') throw new InputError(`expected side "buy" or "sell", got ${JSON.stringify(trade.side)}`, { field: `${field}.side` });
    });
  });
  if (data.hedgePnl !== null) checkSeries('hedgePnl', data.hedgePnl.t, { cumulative: [data.hedgePnl.cumulative, false] });
  data.summary.rows.forEach((row, i) => {
    if (row.values.length !== data.summary.columns.length) {
      throw new InputError(`expected ${data.summary.columns.length} values (one per column), got ${row.values.length}`, { field: `summary.rows[${i}].values` });
    }
  });
  data.sweep?.rows.forEach((row, i) => {
    if (row.values.length !== data.sweep!.columns.length) {
      throw new InputError(`expected ${data.sweep!.columns.length} values (one per column), got ${row.values.length}`, { field: `sweep.rows[${i}].values` });
    }
  });
}

function checkSeries(at: string, t: readonly number[], columns: Record<string, [readonly (number | null)[], boolean]>): void {
  for (let i = 0; i < t.length; i += 1) {
    const ti = t[i]!;
    if (!Number.isFinite(ti)) throw new InputError(`expected a time in epoch milliseconds, got ${String(ti)}`, { field: `${at}.t[${i}]` });
    if (i > 0 && !(ti > t[i - 1]!)) throw new InputError(`times must increase, got ${ti} after ${t[i - 1]!}`, { field: `${at}.t[${i}]` });
  }
  for (const [name, [values, nullable]] of Object.entries(columns)) {
    if (values.length !== t.length) {
      throw new InputError(`expected ${t.length} values (one per time), got ${values.length}`, { field: `${at}.${name}` });
    }
    for (let i = 0; i < values.length; i += 1) {
      const v = values[i];
      if (v === null && nullable) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InputError(`expected a finite number${nullable ? ' or null' : ''}, got ${String(v)}`, { field: `${at}.${name}[${i}]` });
      }
    }
  }
}

const REPORT_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 20px 48px; color: var(--ink); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6em; margin: 0 0 12px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1em; margin: 18px 0 4px; color: var(--muted); font-weight: 600; }
.unit { color: var(--muted); font-weight: normal; }
.none, .trades { color: var(--muted); }
.warnings { border-left: 4px solid #b45309; padding-left: 12px; }
dl.scenario { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 4px 24px; margin: 0; }
dl.scenario div { min-width: 0; }
dl.scenario dt { color: var(--muted); font-size: 0.85em; }
dl.scenario dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { text-align: left; background: var(--band); border-bottom: 2px solid var(--line); }
tbody th { text-align: left; font-weight: normal; }
td { text-align: right; white-space: nowrap; }
table.summary thead th:not(:first-child), table.sweep thead th:nth-child(n+3) { text-align: right; }
table.sweep td:nth-child(2) { text-align: left; }
table.denial td, table.stockout td { text-align: left; white-space: normal; }
tbody tr:nth-child(even) { background: #fbfcfd; }
details > summary { cursor: pointer; color: var(--accent); }
ul { padding-left: 20px; }
.chart { width: 100%; min-height: 300px; margin: 4px 0 12px; }
.u-title { font-size: 13px; font-weight: 600; }
.u-legend { font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  .chart, table, tr { break-inside: avoid; }
  details > summary { color: var(--ink); }
  .table-wrap { overflow: visible; }
}
`;
