import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { chartList, escapeHtml, expectedChartCount, jsonForScriptTag, materialChartIds, renderReportHtml, writeReport } from '../../src/report/html.js';
import type { BacktestReportData, MaterialReport } from '../../src/report/types.js';
import { HOSTILE, syntheticReport } from './fixture.js';

const small = (hostile = false): BacktestReportData => syntheticReport({ days: 400, seed: 7, hostile });

function embeddedJson(html: string): string {
  const open = '<script type="application/json" id="report-data">';
  const start = html.indexOf(open);
  expect(start).toBeGreaterThan(0);
  const end = html.indexOf('</script>', start);
  return html.slice(start + open.length, end);
}

/** Fails with the match and a little context, not the whole (large) document. */
function expectAbsent(html: string, pattern: RegExp | string): void {
  const index = typeof pattern === 'string' ? html.indexOf(pattern) : html.search(pattern);
  if (index >= 0) expect.fail(`found ${String(pattern)} at ${index}: ${JSON.stringify(html.slice(Math.max(0, index - 60), index + 60))}`);
}

function expectPresent(html: string, text: string): void {
  if (!html.includes(text)) expect.fail(`missing ${JSON.stringify(text)}`);
}

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script>([^]*?)<\/script>/g)].map((m) => m[1]!);
}

describe('renderReportHtml', () => {
  it('embeds the data as JSON that parses back to exactly the input, hostile strings included', () => {
    const data = small(true);
    const html = renderReportHtml(data);
    expect(JSON.parse(embeddedJson(html))).toEqual(data);
  });

  it('never lets a hostile string open a tag, end the script or leave raw line separators', () => {
    const html = renderReportHtml(small(true));
    expectAbsent(html, '<img');
    expectAbsent(html, '<!--');
    expectAbsent(html, /[\u2028\u2029]/);
    // The three script elements close exactly three times: nothing in the data closed one early.
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(html.match(/<script[\s>]/gi)).toHaveLength(3);
    // Text and attributes carry the escaped form.
    expectPresent(html, `<title>Ammonia plant on Henry Hub gas: ma-procurement ${escapeHtml(HOSTILE)}</title>`);
    expectPresent(html, '&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
  });

  it('contains no URL of any kind and no element that would fetch one', () => {
    const html = renderReportHtml(small());
    expectAbsent(html, /\b(https?|ftp|wss?):/i);
    expectAbsent(html, /\/\/[a-z0-9-]+(\.[a-z0-9-]+)+\//i);
    expectAbsent(html, /\s(src|href|srcset|action)\s*=/i);
    expectAbsent(html, /<(link|img|iframe|object|embed|base)\b/i);
    expectAbsent(html, /(^|[^a-z])url\(/i);
  });

  it('allows only its own two inline scripts, by hash, and no network in its CSP', () => {
    const html = renderReportHtml(small());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    expect(csp).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    const hashes = inlineScripts(html).map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`);
    expect(hashes).toHaveLength(2);
    expect(csp).toContain(`script-src ${hashes.join(' ')};`);
  });

  it('inlines uPlot from node_modules with its licence', () => {
    const html = renderReportHtml(small());
    expectPresent(html, '/*! uPlot 1.6.');
    expectPresent(html, 'MIT License');
    expectPresent(html, 'var uPlot=');
    expectPresent(html, '.uplot');
  });

  it('gives every chart a stable container: savings, rolling, price and cover per material, hedge, budget', () => {
    const data = small();
    const html = renderReportHtml(data);
    const ids = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
    const expected = ['savings', 'rolling', 'price-natgas', 'cover-natgas', 'price-power', 'cover-power', 'hedge-ratio-natgas', 'hedge-pnl', 'budget'];
    expect(ids).toEqual(expected);
    expect(chartList(data).map((c) => c.id)).toEqual(expected);
    expect(expectedChartCount(data)).toBe(9);
  });

  it('puts the warning banner and the headline in words before any table or chart', () => {
    const html = renderReportHtml(small());
    const banner = html.indexOf('<div class="banner" id="warnings" role="alert">');
    const headline = html.indexOf('<p class="lead">ma-procurement beat schedule and lost to jit.</p>');
    expect(banner).toBeGreaterThan(0);
    expect(headline).toBeGreaterThan(banner);
    expect(html.indexOf('<table')).toBeGreaterThan(headline);
    expect(html.indexOf('data-chart=')).toBeGreaterThan(headline);
    expectPresent(html, '<li class="lost">ma-procurement cost 2.50 USD per t of ammonia more than jit (1.08 %): 39,988,467 USD more over the run.</li>');
    expectPresent(html, '<li class="saved">');
    const quiet = renderReportHtml({ ...small(), warnings: [] });
    expectAbsent(quiet, 'class="banner"');
  });

  it('explains why the reorder point includes lead-time demand, and keys the trade markers by kind', () => {
    const html = renderReportHtml(small());
    expectPresent(html, 'The reorder point includes the demand over the 5-day lead time on top of the buffer');
    for (const label of ['buy ahead (on the signal)', 'forced reorder (position at the reorder point)', 'emergency purchase (stockout)', 'hedge', 'hedge unwound']) expectPresent(html, `</svg>${label}</span>`);
    expect(html.match(/<figcaption class="chart-unit">USD\/MMBtu<\/figcaption>/g)).toHaveLength(1);
  });

  it('prints the scenario, assumptions, summary, years, sweep, stockouts and denials as tables and lists', () => {
    const data = small();
    const html = renderReportHtml(data);
    expectPresent(html, '<dd>backtests/ammonia-henry-hub.yaml</dd>');
    expectPresent(html, `<dd>${data.scenario.configHash}</dd>`);
    expectPresent(html, '<dd>7</dd>');
    expectPresent(html, `<dd>2000-01-03 to ${data.scenario.to}</dd>`);
    for (const assumption of data.assumptions) expectPresent(html, `<li>${escapeHtml(assumption)}</li>`);
    expectPresent(html, '<tr><th scope="row">Fees (USD)</th><td>25,901.33</td><td>27,004.12</td><td>26,480.55</td></tr>');
    expectPresent(html, '<tr><th scope="row">Standard cost, natural gas</th><td>3.3000</td><td>\u2013</td><td>\u2013</td></tr>');
    // Sortable tables carry their sort keys; numeric headings say so.
    expectPresent(html, '<table class="years sortable">');
    expectPresent(html, '<th scope="col" data-numeric="true">Effective cost (USD)</th>');
    expectPresent(html, '<tr class="strategy"><td data-sort="2000">2000</td><td class="text" data-sort="0">ma-procurement</td>');
    // The sweep: two heatmaps with units and baselines, a refused cell, and a table with baseline rows.
    expectPresent(html, 'Each cell: effective unit cost, USD per t of ammonia (lower is better).');
    expect(html.match(/<table class="heatmap">/g)).toHaveLength(2);
    expectPresent(html, '<figcaption>In sample</figcaption>');
    expectPresent(html, '<figcaption>Out of sample</figcaption>');
    expectPresent(html, '<th scope="col" class="corner">slow \u2193 / fast \u2192</th>');
    expect(html.match(/<td class="refused">/g)).toHaveLength(2);
    expectPresent(html, 'Baselines: <span class="key-item">');
    expectPresent(html, '<tr class="baseline"><td>baseline</td><td>jit</td><td>jit</td><td data-sort="3.09">3.09</td>');
    expect(html.match(/<table class="sweep sortable">[^]*?<\/table>/)?.[0].match(/<tr[ >]/g)).toHaveLength(21);
    expectPresent(html, '<details open><summary>3 stockouts</summary>');
    expectPresent(html, '<details><summary>30 denials</summary>');
    expect(/Fills: [\d,]+ bought ahead, [\d,]+ forced reorders/.test(html)).toBe(true);
    expectPresent(html, '<table class="trades sortable" id="trade-table">');
  });

  it('leaves out the hedge charts, rolling windows and the sweep when there are none, and says so for empty lists', () => {
    const data: BacktestReportData = { ...small(), hedge: null, rolling: null, sweep: null, denials: [], stockouts: [] };
    const html = renderReportHtml(data);
    expectAbsent(html, 'data-chart="hedge-pnl"');
    expectAbsent(html, 'data-chart="rolling"');
    expectPresent(html, 'No material has a hedge instrument in this scenario.');
    expectAbsent(html, 'id="sweep"');
    expectPresent(html, 'No denials.');
    expectPresent(html, 'No stockouts.');
    expect(expectedChartCount(data)).toBe(6);
  });

  it('refuses series the charts cannot draw, naming the field', () => {
    const base = small();
    const gas = base.materials[0]!;
    const withGas = (patch: Partial<MaterialReport>): BacktestReportData => ({ ...base, materials: [{ ...gas, ...patch }] });

    const short = withGas({ price: { ...gas.price, close: gas.price.close.slice(1) } });
    expect(() => renderReportHtml(short)).toThrow(InputError);
    expect(() => renderReportHtml(short)).toThrow('field "materials[0].price.close": expected 400 values (one per time), got 399');

    const nan = withGas({ cover: { ...gas.cover, onHand: gas.cover.onHand.map((v, i) => (i === 12 ? Number.NaN : v)) } });
    expect(() => renderReportHtml(nan)).toThrow('field "materials[0].cover.onHand[12]": expected a finite number or null, got NaN');

    const backwards = withGas({ cover: { ...gas.cover, t: gas.cover.t.map((t, i) => (i === 5 ? 0 : t)) } });
    expect(() => renderReportHtml(backwards)).toThrow('field "materials[0].cover.t[5]"');

    const badTrade = withGas({ markers: [{ t: gas.price.t[3]!, price: Number.POSITIVE_INFINITY, kind: 'buy-ahead', side: 'buy', qty: 1 }] });
    expect(() => renderReportHtml(badTrade)).toThrow('field "materials[0].markers[0].price"');

    const badKind = withGas({ markers: [{ t: gas.price.t[3]!, price: 3, kind: 'whim' as never, side: 'buy', qty: 1 }] });
    expect(() => renderReportHtml(badKind)).toThrow('field "materials[0].markers[0].kind"');

    const ragged = { ...base, summary: { columns: ['a', 'b'], rows: [{ label: 'x', values: ['1'] }] } };
    expect(() => renderReportHtml(ragged)).toThrow('field "summary.rows[0].values": expected 2 values');

    const shortTrades = { ...base, trades: { ...base.trades, fee: base.trades.fee.slice(1) } };
    expect(() => renderReportHtml(shortTrades)).toThrow('field "trades.fee"');

    const badGrid = { ...base, sweep: { ...base.sweep!, outOfSample: base.sweep!.outOfSample.slice(1) } };
    expect(() => renderReportHtml(badGrid)).toThrow('field "sweep.outOfSample": expected 4 rows');
  });
});

describe('jsonForScriptTag', () => {
  it('escapes every "<" and the line separators and still parses to the same value', () => {
    const value = { a: '</script><!-- <\/SCRIPT \u2028\u2029', b: [1, null, 2.5] };
    const text = jsonForScriptTag(value);
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('is the JSON with "<", U+2028 and U+2029 replaced one after another, character for character', () => {
    const text = fc.string({ unit: fc.constantFrom('<', '>', '/', 'a', '"', '\\', '\u2028', '\u2029', '\u2027', '\u00e9') });
    fc.assert(
      fc.property(fc.array(fc.oneof(text, fc.double(), fc.constant(null))), fc.dictionary(text, text), (list, map) => {
        const value = { list, map };
        const definition = JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
        expect(jsonForScriptTag(value)).toBe(definition);
      }),
      { numRuns: 300, seed: 16 },
    );
  });
});

describe('materialChartIds', () => {
  it('reduces ids to [a-z0-9-] and makes them unique', () => {
    const m = small().materials[0]!;
    const ids = materialChartIds([
      { ...m, id: 'NatGas' },
      { ...m, id: 'nat gas' },
      { ...m, id: 'natgas' },
      { ...m, id: '</script>' },
      { ...m, id: '***' },
    ]);
    expect(ids).toEqual(['natgas', 'nat-gas', 'natgas-2', 'script', 'material-5']);
  });
});

describe('writeReport', () => {
  it('writes the rendered report to the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procura-report-'));
    try {
      const data = small();
      const path = join(dir, 'nested', 'report.html');
      writeReport(path, data);
      expect(readFileSync(path, 'utf8')).toBe(renderReportHtml(data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
