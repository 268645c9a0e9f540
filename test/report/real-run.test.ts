/**
 * The rendered report of real (small) backtests says what issue 8 asks of it, where a reader
 * looks first: a rule that loses to a baseline says so before any table or chart; a run with
 * stockouts on coarse data is flagged above the result; the rolling windows (median, 10th and
 * 90th percentile, share won) and the bootstrap interval ("not distinguishable from ...") are
 * printed from the run's own analysis; the budget figures (spread, worst month, variance
 * removed, dollar offset with the 80-125 % band) each come with their line of explanation; and
 * the closing stock valued at the period-average price is mentioned when it flips the sign.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { backtestWithBaselines, savings, type BacktestResult } from '../../src/engine/results.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { buildReportData, headline } from '../../src/report/build.js';
import { escapeHtml, renderReportHtml } from '../../src/report/html.js';

const FIXTURES = 'test/engine/fixtures';
const work = mkdtempSync(join(tmpdir(), 'procura-real-run-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the small scenario with `edit` applied to its text and, optionally, its price file. */
function variant(name: string, edit: (yaml: string) => string, prices?: (csv: string) => string): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  copyFileSync(`${FIXTURES}/plant.yaml`, join(dir, 'plant.yaml'));
  const csv = readFileSync(`${FIXTURES}/gas-daily.csv`, 'utf8');
  writeFileSync(join(dir, 'gas-daily.csv'), prices === undefined ? csv : prices(csv));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, edit(readFileSync(`${FIXTURES}/small.yaml`, 'utf8')));
  return file;
}

/** The first bar of each month, dated the 1st: World Bank style monthly data. */
function monthly(csv: string): string {
  const [header, ...rows] = csv.trimEnd().split('\n');
  const seen = new Set<string>();
  const out = [header!];
  for (const row of rows) {
    const month = row.slice(0, 7);
    if (seen.has(month)) continue;
    seen.add(month);
    out.push(`${month}-01${row.slice(10)}`);
  }
  return `${out.join('\n')}\n`;
}

/** The small scenario hedged with ma-hedge on a swap. */
function hedgedText(yaml: string): string {
  return yaml
    .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", '  name: ma-hedge\n  params: { fast: 5, slow: 20, baseRatio: 0.5, upRatio: 0.9, downRatio: 0.2 }')
    .replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, lotStep: "100", tickSize: "0.001" }');
}

let small: BacktestResult;
let coarse: BacktestResult;
let hedged: BacktestResult;
let lumpy: BacktestResult;
beforeAll(async () => {
  small = await backtestWithBaselines(loadScenario(`${FIXTURES}/small.yaml`), { record: true });
  coarse = await backtestWithBaselines(
    loadScenario(
      variant(
        'coarse',
        (y) => y.replace('prices: { file: gas-daily.csv }', 'prices: { file: gas-daily.csv, cadence: monthly }').replace('leadTimeDays: 2', 'leadTimeDays: 31').replace('fast: 5, slow: 20', 'fast: 2, slow: 3'),
        monthly,
      ),
    ),
    { record: true },
  );
  hedged = await backtestWithBaselines(
    loadScenario(variant('hedged', hedgedText)),
    { record: true },
  );
  // The same hedge with a lot step far above the exposure: every hedge order rounds to zero.
  lumpy = await backtestWithBaselines(loadScenario(variant('lumpy', (y) => hedgedText(y).replace('lotStep: "100", tickSize: "0.001" }', 'lotStep: "1000000", tickSize: "0.001" }'))), { record: true });
}, 240_000);

const page = async (result: BacktestResult): Promise<string> => renderReportHtml(await buildReportData(result));
/** The position of `text` in `html`, failing when it is absent. */
function at(html: string, text: string): number {
  const i = html.indexOf(text);
  expect(i, `missing: ${text}`).toBeGreaterThan(-1);
  return i;
}
const firstChartOrTable = (html: string): number => Math.min(at(html, '<table'), at(html, 'data-chart='));

describe('the verdict comes first', () => {
  it('says which baselines the strategy lost to before any table, chart or scenario detail', async () => {
    // small beats both baselines; the coarse run costs the same as jit and loses to schedule.
    let lostSomewhere = 0;
    for (const result of [small, coarse]) {
      const html = await page(result);
      const words = headline(result);
      const lost = savings(result).filter((x) => x.perUnit.toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).lt(0)).map((x) => x.baseline);
      const won = savings(result).filter((x) => x.perUnit.toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).gt(0)).map((x) => x.baseline);
      lostSomewhere += lost.length;
      const lead = at(html, `<p class="lead">${escapeHtml(words.lead)}</p>`);
      if (lost.length > 0) expect(words.lead).toContain(`lost to ${lost.join(' and ')}`);
      else expect(words.lead).not.toContain('lost');
      if (won.length > 0) expect(words.lead).toContain(`beat ${won.join(' and ')}`);
      expect(lead).toBeLessThan(firstChartOrTable(html));
      expect(lead).toBeLessThan(at(html, '<section id="scenario">'));
      for (const x of words.sentences) {
        expect(at(html, `<li class="${x.verdict}">${escapeHtml(x.text)}</li>`)).toBeLessThan(firstChartOrTable(html));
        if (lost.includes(x.baseline)) expect(x.text).toMatch(new RegExp(`^ma-procurement cost [\\d.,]+ USD per t of widget more than ${x.baseline} `));
      }
    }
    expect(lostSomewhere).toBeGreaterThan(0);
    expect(headline(coarse).lead).toBe('ma-procurement lost to schedule.');
  });

  it('puts the coarse-data warning (stockouts on a monthly series, with the likely cause) above the result', async () => {
    const messages = [coarse.run, ...coarse.baselines.values()].flatMap((r) => r.warnings.map((w) => w.message));
    expect(messages.length).toBeGreaterThan(0);
    expect(messages[0]).toMatch(/^ma-procurement: gas ran out of stock on \d+ of 150 days \([\d.]+ %\); likely cause: the gas prices are monthly/);
    const html = await page(coarse);
    const banner = at(html, '<div class="banner" id="warnings" role="alert">');
    expect(banner).toBeLessThan(at(html, '<p class="lead">'));
    for (const m of messages) expect(at(html, `<li>${escapeHtml(m)}</li>`)).toBeLessThan(at(html, '<p class="lead">'));
    // A clean run has no banner.
    expect(small.run.warnings).toEqual([]);
  });

  it('flags hedge orders the lot step skips (the hedge ratio is not what the strategy asked for), and counts them in the one number format', async () => {
    expect(hedged.run.warnings.filter((w) => w.kind === 'skipped-hedge-orders')).toEqual([]);
    const skipped = lumpy.run.warnings.filter((w) => w.kind === 'skipped-hedge-orders');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.message).toMatch(/^ma-hedge: \d+ gas-swap hedge orders were skipped over 150 days \([\d.]+ a day\); likely cause: the hedge lot step \(1000000 MMBtu\) rounds the day's change of the hedge target down to zero/);
    const data = await buildReportData(lumpy);
    const html = renderReportHtml(data);
    expect(at(html, `<li>${escapeHtml(skipped[0]!.message)}</li>`)).toBeLessThan(at(html, '<p class="lead">'));
    // static-hedge, the hedge-without-timing baseline, has the same lot step and is flagged too.
    expect(lumpy.baselines.get('static-hedge')!.warnings.some((w) => w.kind === 'skipped-hedge-orders')).toBe(true);
    // Counts read as the terminal prints them: 12345 orders are "12,345".
    const many = { ...lumpy, run: { ...lumpy.run, counters: { ...lumpy.run.counters, orders: 12345, skips: 1234567 } } } as BacktestResult;
    const summary = (await buildReportData(many)).summary.rows;
    expect(summary.find((r) => r.label === 'orders')!.values[0]).toBe('12,345');
    expect(summary.find((r) => r.label === 'skipped (lot/notional)')!.values[0]).toBe('1,234,567');
  });
});

describe('results that luck cannot move', () => {
  it('prints every rolling-window distribution of the analysis and the bootstrap verdict of each baseline', async () => {
    const html = await page(small);
    const comparisons = small.analysis.comparisons;
    expect(comparisons.length).toBe(2);
    const signed = (v: number): string => `${v > 0 ? '+' : ''}${(Math.round(v * 1e4) / 1e4).toFixed(2)} %`;
    let rows = 0;
    for (const c of comparisons) {
      for (const w of c.windows.filter((x) => x.count > 0)) {
        rows += 1;
        const cells = [c.baseline, w.label, String(w.count), signed(w.median), signed(w.p10), signed(w.p90), `${(Math.round(w.shareWon * 1e4) / 100).toFixed(0)} %`];
        expect(html).toContain(`<tr><th scope="row">${cells[0]}</th>${cells.slice(1).map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`);
      }
      const sentence = headline(small).sentences.find((s) => s.baseline === c.baseline)!.text;
      expect(sentence).toContain(c.fullPeriod.distinguishable ? 'excludes zero: the difference is not luck.' : `holds zero: not distinguishable from ${c.baseline}.`);
      expect(html).toContain(escapeHtml(sentence));
    }
    expect(rows).toBeGreaterThan(0);
    // The chart's caption names the windows it draws: this run is shorter than 12 months.
    expect(html).toContain('saving over each horizon (20 days) window, at its end date');
  });

  it('says "not distinguishable" when the interval holds zero and names the closing-stock flip, in the page', async () => {
    const c = small.analysis.comparisons[0]!;
    const doctored = {
      ...small,
      analysis: {
        ...small.analysis,
        comparisons: [
          { ...c, fullPeriod: { ...c.fullPeriod, low: -0.5, high: 0.25, distinguishable: false }, closingStock: { atLastPrice: -0.31, atAveragePrice: 0.12, signsDiffer: true } },
          ...small.analysis.comparisons.slice(1),
        ],
      },
    } as BacktestResult;
    const text = headline(doctored).sentences[0]!.text;
    expect(text).toContain(`The 95 % interval -0.50 % to +0.25 % holds zero: not distinguishable from ${c.baseline}.`);
    expect(text).toContain('With the closing stock valued at the period-average price instead of the last, it would be +0.12 %: the verdict depends on the end date.');
    const html = await page(doctored);
    expect(at(html, escapeHtml(text))).toBeLessThan(firstChartOrTable(html));
    // Signs that agree are not mentioned.
    expect(headline(small).sentences.every((s) => !s.text.includes('period-average price'))).toBe(small.analysis.comparisons.every((k) => !k.closingStock.signsDiffer));
  });
});

describe('the budget', () => {
  it('gives the hedged run its spread, worst month, variance removed and dollar offset, each explained in a line', async () => {
    const data = await buildReportData(hedged);
    const html = renderReportHtml(data);
    const figures = hedged.analysis.budget[0]!.figures;
    expect(hedged.analysis.budget[0]!.run).toBe('ma-hedge');
    expect(figures.varianceRemoved).not.toBeNull();
    expect(data.budget.table.columns).toEqual(['sd (USD/t)', 'worst month (USD/t)', 'cumulative overrun (USD)', 'sd unhedged (USD/t)', 'variance removed', 'dollar offset']);
    const row = data.budget.table.rows[0]!;
    expect(row.label).toBe('ma-hedge');
    expect(row.values[0]).toBe(figures.sdPerUnit.toFixed(2));
    expect(row.values[1]).toBe(`${figures.worstMonth!.month}: ${figures.worstMonth!.perUnit > 0 ? '+' : ''}${figures.worstMonth!.perUnit.toFixed(2)}`);
    expect(row.values[4]).toBe(`${(figures.varianceRemoved! * 100).toFixed(1)} %`);
    expect(row.values[5]).toMatch(figures.dollarOffsetEffective ? /^-?[\d.]+ %$/ : /^-?[\d.,]+ % \(outside 80-125 %\)$/);
    // One line of explanation per group of figures, each naming what it explains.
    const notes = data.budget.notes;
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(/^sd: .*worst month: .*cumulative overrun: /);
    expect(notes[1]).toMatch(/^sd unhedged: .*variance removed = /);
    expect(notes[2]).toMatch(/^dollar offset = .*80-125 % is "highly effective"/);
    for (const n of notes) expect(html).toContain(`<p class="chart-note">${escapeHtml(n)}</p>`);
    // static-hedge is the third baseline of a hedged run, in the budget as everywhere.
    expect(data.budget.runs.map((r) => r.name)).toEqual(['ma-hedge', 'jit', 'schedule', 'static-hedge']);
  });

  it('leaves the hedge columns out of an unhedged run and still explains its figures', async () => {
    const data = await buildReportData(small);
    expect(data.budget.table.columns).toEqual(['sd (USD/t)', 'worst month (USD/t)', 'cumulative overrun (USD)']);
    expect(data.budget.notes).toHaveLength(1);
  });
});
