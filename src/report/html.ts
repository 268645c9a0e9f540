/**
 * The self-contained HTML backtest report: one file that opens offline (file://) with no
 * request to anywhere. uPlot's script and stylesheet are inlined from node_modules at
 * render time, the data travels as JSON in a `<script type="application/json">` tag, the
 * tables are plain escaped HTML (readable without JavaScript and in print), and a small
 * inline script draws the charts. A Content-Security-Policy allows only the two inline
 * scripts (by hash), so neither a network request nor an injected script can run even if
 * a string slipped past escaping.
 *
 * Page order follows the analyst's questions: did it pay (headline in words, cumulative
 * saving, year by year), what did it do (prices with trades by reason, days of cover, the
 * trade list), what did hedging and the budget do, and how robust is it (the sweep).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { PAGE_SCRIPT } from './page-script.js';
import { REPORT_FORMAT_VERSION, TradeKind, type BacktestReportData, type MaterialReport, type SortableTable, type SweepReport } from './types.js';

/** Rows above which a denials or stockouts table starts collapsed. */
const OPEN_TABLE_MAX_ROWS = 25;

/** Marker shapes of the trade kinds, as inline SVG (drawn the same way on the charts). */
const KIND_KEY: readonly { kind: TradeKind; label: string; svg: string }[] = [
  { kind: TradeKind.buyAhead, label: 'buy ahead (on the signal)', svg: '<path d="M6 1 L11 10 L1 10 Z" fill="#1a7f37"/>' },
  { kind: TradeKind.forcedReorder, label: 'forced reorder (position at the reorder point)', svg: '<path d="M6 1.5 L10.5 6 L6 10.5 L1.5 6 Z" fill="none" stroke="#bc4c00" stroke-width="1.5"/>' },
  { kind: TradeKind.emergency, label: 'emergency purchase (stockout)', svg: '<path d="M2 2 L10 10 M10 2 L2 10" stroke="#cf222e" stroke-width="2"/>' },
  { kind: TradeKind.hedge, label: 'hedge', svg: '<rect x="2" y="2" width="8" height="8" fill="#8250df"/>' },
  { kind: TradeKind.unwind, label: 'hedge unwound', svg: '<rect x="2.5" y="2.5" width="7" height="7" fill="#fff" stroke="#8250df" stroke-width="1.3"/>' },
];

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

  const materialSections = data.materials.map((material, index) => renderMaterial(data, material, index, chartIds[index] ?? `material-${index + 1}`)).join('\n');

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
<body data-trades-file="${escapeHtml(`${data.scenario.name}-${data.runs[0] ?? 'run'}-trades.csv`)}">
<header>
<h1>${escapeHtml(data.title)}</h1>
</header>
<main>
${renderWarnings(data)}
${renderHeadline(data)}
<section id="scenario">
<h2>Scenario</h2>
${renderScenario(data)}
</section>
<section id="summary">
<h2>Summary</h2>
${renderTable(['', ...data.summary.columns], data.summary.rows.map((row) => [row.label, ...row.values]), 'summary')}
</section>
${renderYears(data)}
${materialSections}
${renderHedge(data)}
${renderBudget(data)}
${renderTrades(data)}
${renderSweep(data)}
<section id="assumptions">
<h2>Simulated venue assumptions</h2>
${data.assumptions.length === 0 ? '<p class="none">None stated.</p>' : `<ul>\n${data.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('\n')}\n</ul>`}
</section>
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
<noscript><p>The charts, the trade list and table sorting need JavaScript; every other table reads without it.</p></noscript>
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
 * The chart containers a report for `data` has, in page order (id and kind). The page sets
 * `data-charts-rendered` to their number once every one is drawn.
 */
export function chartList(data: BacktestReportData): { id: string; kind: string }[] {
  const ids = materialChartIds(data.materials);
  const out: { id: string; kind: string }[] = [{ id: 'savings', kind: 'savings' }];
  if (data.rolling !== null) out.push({ id: 'rolling', kind: 'rolling' });
  data.materials.forEach((_, i) => {
    out.push({ id: `price-${ids[i]!}`, kind: 'price' }, { id: `cover-${ids[i]!}`, kind: 'cover' });
  });
  if (data.hedge !== null) {
    const hedgeIds = materialChartIds(data.hedge.materials.map((m) => ({ id: m.id })));
    data.hedge.materials.forEach((_, i) => out.push({ id: `hedge-ratio-${hedgeIds[i]!}`, kind: 'hedge-ratio' }));
    out.push({ id: 'hedge-pnl', kind: 'hedge-pnl' });
  }
  if (data.budget.t.length > 0) out.push({ id: 'budget', kind: 'budget' });
  return out;
}

/** The number of charts a report for `data` draws. */
export function expectedChartCount(data: BacktestReportData): number {
  return chartList(data).length;
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

function renderWarnings(data: BacktestReportData): string {
  if (data.warnings.length === 0) return '';
  return `<div class="banner" id="warnings" role="alert">
<strong>Read these figures with care.</strong>
<ul>\n${data.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('\n')}\n</ul>
</div>`;
}

function renderHeadline(data: BacktestReportData): string {
  const h = data.headline;
  const rolling =
    data.rolling === null
      ? ''
      : `<h3>Saving over rolling windows</h3>
<p class="chart-note">${escapeHtml(data.rolling.description)}</p>
${renderTable(
  ['Baseline', 'Windows', 'Count', 'Median', '10th percentile', '90th percentile', 'Windows won'],
  data.rolling.baselines.map((b) => [b.name, b.window, String(b.t.length), signedPercent(b.median), signedPercent(b.p10), signedPercent(b.p90), `${(b.shareWon * 100).toFixed(0)} %`]),
  'rolling',
)}
${figure('rolling', 'rolling', '', `saving over each ${rollingChartWindow(data.rolling)} window, at its end date, % of the baseline\u2019s cost (above 0: the strategy was cheaper)`, '')}`;
  return `<section id="headline">
<h2>Result</h2>
<p class="lead">${escapeHtml(h.lead)}</p>
<ul class="verdicts">\n${h.sentences.map((x) => `<li class="${x.verdict}">${escapeHtml(x.text)}</li>`).join('\n')}\n</ul>
<h3>Cumulative saving against each baseline</h3>
${figure(
  'savings',
  'savings',
  '',
  `${data.currency} saved so far (above 0: ${data.runs[0] ?? 'the strategy'} was cheaper)`,
  `The baseline's effective cost of what was consumed so far minus the strategy's, with stock still held valued at each day's price; the last point is the run's saving. A curve that drifts down is a strategy that pays away what it saves.`,
)}
${rolling}
</section>`;
}

/** The windows the rolling chart draws (the page script picks the same): the 12-month ones, or the first kind there is. */
export function rollingChartWindow(rolling: NonNullable<BacktestReportData['rolling']>): string {
  return rolling.baselines.some((b) => b.window === '12 months') ? '12-month' : (rolling.baselines[0]?.window ?? '');
}

function signedPercent(v: number): string {
  return `${v > 0 ? '+' : ''}${v.toFixed(2)} %`;
}

function renderYears(data: BacktestReportData): string {
  return `<section id="years">
<h2>Year by year</h2>
<p class="chart-note">${escapeHtml(data.years.description)}</p>
${renderSortable(data.years, 'years', data.years.rows.length > 24)}
</section>`;
}

function kindCounts(material: MaterialReport): string {
  const order: TradeKind[] = [TradeKind.buyAhead, TradeKind.forcedReorder, TradeKind.emergency, TradeKind.hedge, TradeKind.unwind, TradeKind.rollOff, TradeKind.routine];
  const names: Record<TradeKind, string> = {
    'buy-ahead': 'bought ahead',
    'forced-reorder': 'forced reorders',
    emergency: 'emergency purchases',
    hedge: 'hedge trades',
    unwind: 'hedge unwinds',
    'roll-off': 'hedge contracts settled at expiry (not marked)',
    routine: 'routine buys for consumption (not marked)',
  };
  const parts = order.filter((k) => (material.tradeCounts[k] ?? 0) > 0).map((k) => `${(material.tradeCounts[k] ?? 0).toLocaleString('en-US')} ${names[k]}`);
  return parts.length === 0 ? 'No trades.' : `Fills: ${parts.join(', ')}.`;
}

function renderMaterial(data: BacktestReportData, material: MaterialReport, index: number, chartId: string): string {
  const present = new Set(material.markers.map((m) => m.kind));
  const key = KIND_KEY.filter((k) => present.has(k.kind))
    .map((k) => `<span class="key-item"><svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">${k.svg}</svg>${escapeHtml(k.label)}</span>`)
    .join('\n');
  const lead = material.cover.leadTimeDays;
  return `<section class="material" id="material-${chartId}">
<h2>${escapeHtml(material.name)} <span class="unit">(${escapeHtml(material.unit)})</span></h2>
<p class="trades">${escapeHtml(kindCounts(material))}</p>
<h3>Price, moving averages and trades</h3>
${key === '' ? '' : `<p class="key">${key}</p>`}
${figure(
  `price-${chartId}`,
  'price',
  ` data-material="${index}"`,
  material.price.priceUnit,
  'When a series has more days than the chart has pixels, the close is drawn as its mean with a band from the lowest to the highest close in each pixel; trades of one kind closer than a few pixels are merged into one larger marker (hover for the count). Drag to zoom; double click to reset.',
)}
<h3>Days of cover against buffer stock and reorder point</h3>
${figure(
  `cover-${chartId}`,
  'cover',
  ` data-material="${index}"`,
  `days of planned consumption`,
  `Stock divided by the planned daily consumption. The reorder point includes the demand over the ${lead}-day lead time on top of the buffer, so it is compared with the stock position (on hand + on order, purple): an order placed there arrives as on-hand stock reaches the buffer. On-hand cover below the reorder point while an order is in transit is normal; on-hand cover below the buffer (red) is what to watch.`,
)}
</section>`;
}

function renderHedge(data: BacktestReportData): string {
  if (data.hedge === null) return `<section id="hedge">\n<h2>Hedge</h2>\n<p class="none">No material has a hedge instrument in this scenario.</p>\n</section>`;
  const ids = materialChartIds(data.hedge.materials.map((m) => ({ id: m.id })));
  const ratios = data.hedge.materials
    .map(
      (m, i) => `<h3>${escapeHtml(m.id)}: hedged quantity against exposure</h3>
${figure(
  `hedge-ratio-${ids[i]!}`,
  'hedge-ratio',
  ` data-hedge="${i}"`,
  escapeHtml(m.unit),
  'Exposure is the forecast consumption over the horizon that is neither in stock nor on order; the hedge ratio (in the legend) is the hedged quantity over it.',
)}`,
    )
    .join('\n');
  return `<section id="hedge">
<h2>Hedge</h2>
${ratios}
<h3>Cumulative hedge P&amp;L, realised plus marked to market</h3>
${figure('hedge-pnl', 'hedge-pnl', '', data.currency, 'After hedge fees; positive is a gain that lowers the effective cost.')}
</section>`;
}

function renderBudget(data: BacktestReportData): string {
  const b = data.budget;
  if (b.t.length === 0) return `<section id="budget">\n<h2>Budget variance by month</h2>\n<p class="none">No month with production.</p>\n</section>`;
  const hedged = b.runs.some((r) => r.unhedged !== null);
  return `<section id="budget">
<h2>Budget variance by month</h2>
${figure(
  'budget',
  'budget',
  '',
  `${b.unit} over budget (below 0: under budget)`,
  `Each month's material cost per unit of product minus its consumption at the standard cost in force (the budget), for ${data.runs[0] ?? 'the strategy'} (bars) and ${data.runs[1] ?? 'the first baseline'} (line; click a legend entry to show or hide a run)${hedged ? `; the dashed line is ${data.runs[0] ?? 'the strategy'} with its hedge result and financing taken out, so the gap between it and the bars is what the hedge did to the budget` : ''}. Where more months than fit are shown, a bar is the mean of the months it covers.`,
)}
${renderTable(['', ...b.table.columns], b.table.rows.map((row) => [row.label, ...row.values]), 'budget')}
${b.notes.map((n) => `<p class="chart-note">${escapeHtml(n)}</p>`).join('\n')}
</section>`;
}

function renderTrades(data: BacktestReportData): string {
  const n = data.trades.t.length;
  return `<section id="trades">
<h2>Trades</h2>
<p class="chart-note">Every fill of ${escapeHtml(data.runs[0] ?? 'the strategy')} and every emergency purchase (${n.toLocaleString('en-US')} in all). Sort by a column heading; filter by kind, material or text; the CSV holds the filtered rows with exact quantities and prices. <code>procura backtest --export DIR</code> writes every run's trades.</p>
<div class="controls" id="trade-controls" hidden>
<label>Kind <select id="trade-kind"></select></label>
<label>Material <select id="trade-material"></select></label>
<label>Search <input id="trade-search" type="search" placeholder="e.g. 2008-07"></label>
<button type="button" id="trade-csv">Download CSV</button>
<span id="trade-count" class="count"></span>
</div>
<div class="table-wrap scroll"><table class="trades sortable" id="trade-table">
<thead><tr>${['Date', 'Material', 'Instrument', 'Kind', 'Side'].map((h) => `<th scope="col">${h}</th>`).join('')}${['Quantity', `Price (${data.currency}/unit)`, `Fee (${data.currency})`, `Notional (${data.currency})`].map((h) => `<th scope="col" data-numeric="true">${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody></tbody>
</table></div>
<button type="button" id="trade-more" hidden></button>
</section>`;
}

function renderSweep(data: BacktestReportData): string {
  if (data.sweep === null) return '';
  const sweep = data.sweep;
  return `<section id="sweep">
<h2>Parameter sweep</h2>
<p>${escapeHtml(sweep.description)}</p>
<p class="chart-note">Each cell: ${escapeHtml(sweep.metric)}. Colour compares the cell with ${escapeHtml(sweep.baselines[0]?.name ?? 'the first baseline')} on the same span: blue is cheaper, orange dearer, white even; a bold border marks a set that beat every baseline, and \u2605 the best set in sample.${sweep.note === '' ? '' : ` ${escapeHtml(sweep.note)}`}</p>
<div class="heatmaps">
${renderHeatmap(sweep, 'inSample', 'In sample')}
${renderHeatmap(sweep, 'outOfSample', 'Out of sample')}
</div>
${renderSortable(sweep.table, 'sweep')}
</section>`;
}

function renderHeatmap(sweep: SweepReport, span: 'inSample' | 'outOfSample', title: string): string {
  const grid = sweep[span];
  const reference = sweep.baselines[0]?.[span];
  const all = grid.flat().filter((v): v is number => v !== null);
  const spread = reference === undefined ? 0 : Math.max(...all.map((v) => Math.abs(v - reference)), ...sweep.baselines.map((b) => Math.abs(b[span] - reference)), 1e-9);
  const bestBaseline = Math.min(...sweep.baselines.map((b) => b[span]));
  const color = (v: number): string => {
    if (reference === undefined) return '#ffffff';
    const f = Math.min(1, Math.abs(v - reference) / spread);
    // Blue (cheaper than the reference) or orange (dearer), fading to white at the reference.
    const [r, g, b] = v <= reference ? [9, 105, 218] : [188, 76, 0];
    const mix = (c: number): number => Math.round(255 + (c - 255) * f * 0.75);
    return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
  };
  const ink = (v: number): string => (reference !== undefined && Math.abs(v - reference) / spread > 0.6 ? '#ffffff' : '#1f2328');
  const yValues = sweep.y === null ? [null] : sweep.y.values;
  const head = `<tr><th scope="col" class="corner">${sweep.y === null ? '' : `${escapeHtml(sweep.y.name)} \u2193 / `}${escapeHtml(sweep.x.name)} \u2192</th>${sweep.x.values.map((x) => `<th scope="col">${escapeHtml(String(x))}</th>`).join('')}</tr>`;
  const rows = yValues
    .map((y, yi) => {
      const cells = sweep.x.values
        .map((_, xi) => {
          const v = grid[yi]?.[xi] ?? null;
          if (v === null) return '<td class="refused">\u2013</td>';
          const beats = v < bestBaseline;
          const star = sweep.bestInSample !== null && sweep.bestInSample[0] === yi && sweep.bestInSample[1] === xi ? '\u2605 ' : '';
          return `<td style="background:${color(v)};color:${ink(v)}"${beats ? ' class="beats"' : ''} data-value="${v}">${star}${v.toFixed(2)}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${y === null ? '' : escapeHtml(String(y))}</th>${cells}</tr>`;
    })
    .join('\n');
  const legend = sweep.baselines
    .map((b) => `<span class="key-item"><span class="swatch" style="background:${color(b[span])}"></span>${escapeHtml(b.name)} ${b[span].toFixed(2)}</span>`)
    .join('\n');
  return `<figure class="heatmap" id="heatmap-${span === 'inSample' ? 'in-sample' : 'out-of-sample'}">
<figcaption>${escapeHtml(title)}</figcaption>
<div class="table-wrap"><table class="heatmap">\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody>\n</table></div>
<p class="key">Baselines: ${legend}</p>
</figure>`;
}

/** A chart with its unit caption above and an explanation below. */
function figure(chartId: string, kind: string, attributes: string, unit: string, note: string): string {
  return `<figure class="chart-box">
<figcaption class="chart-unit">${escapeHtml(unit)}</figcaption>
<div class="chart" id="chart-${chartId}" data-chart="${chartId}" data-kind="${kind}"${attributes}></div>
${note === '' ? '' : `<p class="chart-note">${escapeHtml(note)}</p>`}
</figure>`;
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

/** A table the page makes sortable: each cell carries the value it sorts by. */
function renderSortable(table: SortableTable, className: string, scroll = false): string {
  const head = `<tr>${table.columns.map((c) => `<th scope="col"${c.numeric ? ' data-numeric="true"' : ''}>${escapeHtml(c.label)}</th>`).join('')}</tr>`;
  const body = table.rows
    .map((row) => {
      const cells = row.cells
        .map((cell, i) => {
          const sort = row.sort[i];
          const attr = sort === null || sort === undefined ? '' : ` data-sort="${escapeHtml(String(sort))}"`;
          const cls = table.columns[i]?.numeric === false ? ' class="text"' : '';
          return `<td${cls}${attr}>${escapeHtml(cell ?? '\u2013')}</td>`;
        })
        .join('');
      return `<tr${row.className === undefined ? '' : ` class="${escapeHtml(row.className)}"`}>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap${scroll ? ' scroll' : ''}"><table class="${className} sortable">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`;
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

/** What jsonForScriptTag escapes, and each one's JSON escape. */
const SCRIPT_UNSAFE = /[<\u2028\u2029]/g;
const SCRIPT_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * JSON that is safe inside a `<script>` element: every `<` becomes `\u003c` (so neither
 * `</script` nor `<!--` can appear) and U+2028/U+2029 are escaped. JSON.parse of the
 * element's text gives back exactly `value`.
 */
export function jsonForScriptTag(value: unknown): string {
  // One pass over the text (the main job's is about 2.5 MB) for the three characters, not one each.
  return JSON.stringify(value).replace(SCRIPT_UNSAFE, (character) => SCRIPT_ESCAPES[character]!);
}

/** Chart-id stems for the materials: the id lower-cased to [a-z0-9-], made unique. */
export function materialChartIds(materials: readonly { id: string }[]): string[] {
  const used = new Set<string>();
  return materials.map((material, index) => {
    const base = material.id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || `material-${index + 1}`;
    let id = base;
    for (let n = 2; used.has(id); n += 1) id = `${base}-${n}`;
    used.add(id);
    return id;
  });
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

/** Checks what the charts rely on; tables are printed as given. */
function validateReportData(data: BacktestReportData): void {
  checkSeries('savings', data.savings.t, Object.fromEntries(data.savings.baselines.map((b, i) => [`baselines[${i}].saving`, [b.saving, true]])));
  data.rolling?.baselines.forEach((b, i) => checkSeries(`rolling.baselines[${i}]`, b.t, { savingPercent: [b.savingPercent, false] }));
  data.materials.forEach((m, i) => {
    const at = `materials[${i}]`;
    checkSeries(`${at}.price`, m.price.t, { close: [m.price.close, false], fastMa: [m.price.fastMa, true], slowMa: [m.price.slowMa, true] });
    checkSeries(`${at}.cover`, m.cover.t, {
      onHand: [m.cover.onHand, true],
      position: [m.cover.position, true],
      buffer: [m.cover.buffer, true],
      reorderPoint: [m.cover.reorderPoint, true],
    });
    m.markers.forEach((marker, k) => {
      const field = `${at}.markers[${k}]`;
      if (!Number.isFinite(marker.t)) throw new InputError(`expected a time in epoch milliseconds, got ${String(marker.t)}`, { field: `${field}.t` });
      if (k > 0 && marker.t < m.markers[k - 1]!.t) throw new InputError(`markers must be in time order, got ${marker.t} after ${m.markers[k - 1]!.t}`, { field: `${field}.t` });
      if (!Number.isFinite(marker.price)) throw new InputError(`expected a finite price, got ${String(marker.price)}`, { field: `${field}.price` });
      if (!Number.isFinite(marker.qty)) throw new InputError(`expected a finite quantity, got ${String(marker.qty)}`, { field: `${field}.qty` });
      if (!Object.values(TradeKind).includes(marker.kind)) throw new InputError(`expected a trade kind (${Object.values(TradeKind).join(', ')}), got ${JSON.stringify(marker.kind)}`, { field: `${field}.kind` });
    });
  });
  const trades = data.trades;
  for (const name of ['material', 'instrument', 'kind', 'side', 'qty', 'price', 'fee', 'notional'] as const) {
    if (trades[name].length !== trades.t.length) throw new InputError(`expected ${trades.t.length} values (one per trade), got ${trades[name].length}`, { field: `trades.${name}` });
  }
  if (data.hedge !== null) {
    data.hedge.materials.forEach((m, i) => checkSeries(`hedge.materials[${i}]`, m.t, { exposure: [m.exposure, false], hedged: [m.hedged, false] }));
    checkSeries('hedge.pnl', data.hedge.pnl.t, Object.fromEntries(data.hedge.pnl.runs.map((r, i) => [`runs[${i}].values`, [r.values, false]])));
  }
  checkSeries(
    'budget',
    data.budget.t,
    Object.fromEntries(data.budget.runs.flatMap((r, i) => [[`runs[${i}].variance`, [r.variance, false]], ...(r.unhedged === null ? [] : [[`runs[${i}].unhedged`, [r.unhedged, false]]])])),
  );
  data.budget.table.rows.forEach((row, i) => {
    if (row.values.length !== data.budget.table.columns.length) throw new InputError(`expected ${data.budget.table.columns.length} values (one per column), got ${row.values.length}`, { field: `budget.table.rows[${i}].values` });
  });
  data.summary.rows.forEach((row, i) => {
    if (row.values.length !== data.summary.columns.length) {
      throw new InputError(`expected ${data.summary.columns.length} values (one per column), got ${row.values.length}`, { field: `summary.rows[${i}].values` });
    }
  });
  checkTable('years', data.years);
  if (data.sweep !== null) {
    const sweep = data.sweep;
    checkTable('sweep.table', sweep.table);
    const height = sweep.y === null ? 1 : sweep.y.values.length;
    for (const span of ['inSample', 'outOfSample'] as const) {
      if (sweep[span].length !== height) throw new InputError(`expected ${height} rows (one per ${sweep.y?.name ?? 'grid'} value), got ${sweep[span].length}`, { field: `sweep.${span}` });
      sweep[span].forEach((row, i) => {
        if (row.length !== sweep.x.values.length) throw new InputError(`expected ${sweep.x.values.length} cells (one per ${sweep.x.name} value), got ${row.length}`, { field: `sweep.${span}[${i}]` });
      });
    }
  }
}

function checkTable(at: string, table: SortableTable): void {
  table.rows.forEach((row, i) => {
    if (row.cells.length !== table.columns.length || row.sort.length !== table.columns.length) {
      throw new InputError(`expected ${table.columns.length} cells and sort keys (one per column), got ${row.cells.length} and ${row.sort.length}`, { field: `${at}.rows[${i}]` });
    }
  });
}

const REPORT_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px 20px 48px; color: var(--ink); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; overflow-wrap: anywhere; }
h1 { font-size: 1.6em; margin: 0 0 12px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1em; margin: 18px 0 4px; color: var(--muted); font-weight: 600; }
.unit { color: var(--muted); font-weight: normal; }
.none, .trades { color: var(--muted); }
code { font-size: 0.92em; background: var(--band); padding: 0 3px; border-radius: 3px; }
dl.scenario { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 4px 24px; margin: 0; }
dl.scenario div { min-width: 0; }
dl.scenario dt { color: var(--muted); font-size: 0.85em; }
dl.scenario dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.banner { margin: 20px 0 0; padding: 10px 14px; border: 1px solid #d4a72c; border-left: 6px solid #bf8700; background: #fff8c5; border-radius: 4px; }
.banner ul { margin: 4px 0 0; }
.lead { font-size: 1.25em; font-weight: 600; margin: 4px 0; }
ul.verdicts { list-style: none; padding: 0; margin: 0 0 8px; font-size: 1.05em; }
ul.verdicts li { padding: 2px 0 2px 12px; border-left: 4px solid var(--line); margin: 4px 0; }
ul.verdicts li.saved { border-color: #1a7f37; }
ul.verdicts li.lost { border-color: #cf222e; }
.table-wrap { overflow-x: auto; max-width: 100%; }
.table-wrap.scroll { max-height: 34em; overflow-y: auto; border-bottom: 1px solid var(--line); }
.table-wrap.scroll thead th { position: sticky; top: 0; z-index: 1; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { text-align: left; background: var(--band); border-bottom: 2px solid var(--line); overflow-wrap: normal; }
tbody th { text-align: left; font-weight: normal; }
td { text-align: right; white-space: nowrap; }
td.text { text-align: left; }
table.summary thead th:not(:first-child), table.budget thead th:not(:first-child), table.rolling thead th:nth-child(n+3), table.sortable thead th[data-numeric="true"] { text-align: right; }
table.denial td, table.stockout td, table.rolling td:nth-child(2) { text-align: left; white-space: normal; }
tbody tr:nth-child(even) { background: #fbfcfd; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
tr.baseline td { font-style: italic; background: #f6f8fa; }
tr.strategy td:nth-child(2) { font-weight: 600; }
th.sort { cursor: pointer; user-select: none; }
th.sort::after { content: " \\2195"; color: #8c959f; font-size: 0.85em; }
th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--ink); }
th[aria-sort="descending"]::after { content: " \\2193"; color: var(--ink); }
details > summary { cursor: pointer; color: var(--accent); }
ul { padding-left: 20px; }
figure { margin: 4px 0 16px; }
.chart-box { min-width: 0; }
.chart-unit { font-size: 12px; color: var(--muted); margin: 0 0 2px; }
.chart-note { color: var(--muted); font-size: 0.9em; margin: 4px 0; max-width: 80ch; }
.chart { width: 100%; min-height: 220px; }
.key { margin: 2px 0; font-size: 12px; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 14px; }
.key-item { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 14px; height: 12px; border: 1px solid var(--line); }
.uplot .u-wrap { position: relative; }
.axis-labels { position: absolute; left: 0; top: 0; right: 0; bottom: 0; pointer-events: none; }
.axis-labels .tick { position: absolute; white-space: nowrap; font-size: 12px; line-height: 14px; color: var(--muted); font-variant-numeric: tabular-nums; }
.u-legend { font-size: 12px; text-align: left; }
.u-legend .u-series { padding: 0 6px 0 0; }
.u-legend th { font-weight: normal; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin: 6px 0; }
.controls label { display: inline-flex; gap: 6px; align-items: center; }
.controls select, .controls input, .controls button, #trade-more { font: inherit; padding: 2px 6px; }
.count { color: var(--muted); }
.heatmaps { display: flex; flex-wrap: wrap; gap: 8px 32px; }
.heatmaps figure { min-width: 0; max-width: 100%; }
.heatmaps figcaption { font-weight: 600; }
table.heatmap td { text-align: center; border: 1px solid #fff; padding: 4px 6px; }
table.heatmap td.beats { outline: 2px solid var(--ink); outline-offset: -3px; font-weight: 600; }
table.heatmap td.refused { color: var(--muted); background: var(--band); }
table.heatmap th { text-align: center; background: var(--band); }
table.heatmap th.corner { text-align: left; font-weight: normal; color: var(--muted); white-space: nowrap; }
@media (max-width: 600px) {
  body { padding: 16px 10px 32px; }
  h1 { font-size: 1.3em; }
  th, td { padding: 3px 6px; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  .chart-box, table, tr { break-inside: avoid; }
  details > summary { color: var(--ink); }
  .table-wrap, .table-wrap.scroll { overflow: visible; max-height: none; }
  .controls, #trade-more { display: none; }
}
`;
