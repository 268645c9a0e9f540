/**
 * The daily series as data: what a backtest records (only when asked), the danfo frame and
 * its columns, the per-year table (its whole-run rows equal the run's exact totals to the
 * cent, and it equals a danfo group-by of the frame), the cumulative saving (its last point is
 * the headline's saving), and the export.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { backtestWithBaselines, savings, type BacktestResult } from '../../src/engine/results.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { buildReportData, headline, savingsSeries } from '../../src/report/build.js';
import { DAILY_COLUMNS, dailyColumns, dailyFrame, loadDanfo, TRADE_COLUMNS, tradeColumns } from '../../src/report/daily-frame.js';
import { exportBacktest } from '../../src/report/export.js';
import { periodFigures, type PeriodFigures } from '../../src/report/periods.js';

const FIXTURES = 'test/engine/fixtures';
const SMALL = `${FIXTURES}/small.yaml`;
const work = mkdtempSync(join(tmpdir(), 'procura-daily-frame-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The small scenario hedged with ma-hedge (a copy of the fixtures). */
function hedgedScenario(): string {
  const dir = mkdtempSync(join(work, 'hedge-'));
  copyFileSync(`${FIXTURES}/plant.yaml`, join(dir, 'plant.yaml'));
  copyFileSync(`${FIXTURES}/gas-daily.csv`, join(dir, 'gas-daily.csv'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(
    file,
    readFileSync(SMALL, 'utf8')
      .replace("  name: ma-procurement\n  params: { fast: 5, slow: 20, ma: sma, maxCoverDays: 20, orderUpToDays: 5, trendBars: 3 }", '  name: ma-hedge\n  params: { fast: 5, slow: 20, baseRatio: 0.5, upRatio: 0.9, downRatio: 0.2 }')
      .replace('horizonDays: 20', 'horizonDays: 20\nhedges:\n  gas: { instrument: gas-swap, lotStep: "100", tickSize: "0.001" }'),
  );
  return file;
}

const cents = (x: { toFixed(places: number): string }): number => Number(x.toFixed(2));

let small: BacktestResult;
let hedged: BacktestResult;
beforeAll(async () => {
  small = await backtestWithBaselines(loadScenario(SMALL), { record: true });
  hedged = await backtestWithBaselines(loadScenario(hedgedScenario()), { record: true });
}, 120_000);

describe('recording', () => {
  it('records nothing unless asked (a backtest without a report or an export skips the work)', async () => {
    const bare = await backtestWithBaselines(loadScenario(SMALL));
    expect(bare.run.record).toBeUndefined();
    for (const run of bare.baselines.values()) expect(run.record).toBeUndefined();
    await expect(buildReportData(bare)).rejects.toThrow('was not recorded');
    // Recording changes no figure.
    expect(bare.run.productUnitCost.toFixed()).toBe(small.run.productUnitCost.toFixed());
  });
});

describe('dailyColumns and the frame', () => {
  it('has the documented columns, one row per run, day and material', async () => {
    const columns = dailyColumns(small);
    expect(Object.keys(columns)).toEqual(DAILY_COLUMNS.map((c) => c.name));
    const days = small.run.days;
    for (const values of Object.values(columns)) expect(values).toHaveLength(3 * days);
    expect(new Set(columns.run)).toEqual(new Set(['ma-procurement', 'jit', 'schedule']));
    expect(columns.date!.slice(0, 2)).toEqual(['2023-02-01', '2023-02-02']);
    const frame = await dailyFrame(small);
    expect(frame.shape).toEqual([3 * days, DAILY_COLUMNS.length]);
  });

  it('sums to the run\u2019s exact totals: spend, fees, carrying, consumption, stockouts and effective cost', () => {
    const columns = dailyColumns(small);
    for (const [name, run] of [['ma-procurement', small.run], ['jit', small.baselines.get('jit')!], ['schedule', small.baselines.get('schedule')!]] as const) {
      const rows = columns.run!.map((r, i) => (r === name ? i : -1)).filter((i) => i >= 0);
      const sum = (column: string): number => Math.round(rows.reduce((s, i) => s + Number(columns[column]![i]), 0) * 1e6) / 1e6;
      const m = run.materials[0]!;
      expect(sum('spend'), name).toBeCloseTo(cents(m.spend), 2);
      expect(sum('fees'), name).toBeCloseTo(cents(m.fees), 2);
      expect(sum('carrying'), name).toBeCloseTo(cents(m.carryingCost), 2);
      expect(sum('emergency'), name).toBeCloseTo(cents(m.emergencySpend), 2);
      expect(sum('consumed_qty'), name).toBeCloseTo(m.consumedQty.toNumber(), 3);
      expect(sum('stockout'), name).toBe(m.stockouts);
      // The effective cost of what was consumed, to the cent.
      expect(Math.abs(sum('cost') - cents(m.effectiveUnitCost.times(m.consumedQty))), name).toBeLessThanOrEqual(0.011);
      const last = rows[rows.length - 1]!;
      expect(Number(columns.unit_cost_to_date![last])).toBeCloseTo(m.effectiveUnitCost.toNumber(), 5);
    }
  });

  it('lists every fill and emergency purchase of every run with exact decimals', () => {
    const columns = tradeColumns(small);
    expect(Object.keys(columns)).toEqual(TRADE_COLUMNS.map((c) => c.name));
    const expected = [small.run, small.baselines.get('jit')!, small.baselines.get('schedule')!].reduce((n, r) => n + r.trades.length + r.stockouts.length, 0);
    expect(columns.time).toHaveLength(expected);
    const first = small.run.trades[0]!;
    const i = columns.client_order_id!.indexOf(first.clientOrderId);
    expect(columns.qty![i]).toBe(first.qty.toFixed());
    expect(columns.price![i]).toBe(first.price.toFixed());
    expect(columns.notional![i]).toBe(first.qty.times(first.price).toFixed());
    expect(new Set(columns.kind)).toContain('routine');
  });
});

describe('periodFigures (the per-year table)', () => {
  it('gives whole-run rows equal to the run\u2019s totals and year rows that add up to them', () => {
    const figures = periodFigures(hedged, 'year');
    // A hedged scenario is also judged against static-hedge (a constant hedge ratio).
    const runs = [['ma-hedge', hedged.run], ['jit', hedged.baselines.get('jit')!], ['schedule', hedged.baselines.get('schedule')!], ['static-hedge', hedged.baselines.get('static-hedge')!]] as const;
    expect(figures.map((f) => f.run)).toEqual(['ma-hedge', 'jit', 'schedule', 'static-hedge', 'ma-hedge', 'jit', 'schedule', 'static-hedge']);
    for (const [name, run] of runs) {
      const whole = figures.find((f) => f.run === name && f.period === null)!;
      const m = run.materials[0]!;
      expect(whole.carrying).toBeCloseTo(cents(m.carryingCost), 2);
      expect(whole.hedgePnl).toBeCloseTo(cents(m.hedgePnl), 2);
      expect(whole.stockoutDays).toBe(m.stockouts);
      expect(Math.abs(whole.cost - cents(m.effectiveUnitCost.times(m.consumedQty)))).toBeLessThanOrEqual(0.011);
      const years = figures.filter((f) => f.run === name && f.period !== null);
      expect(years.map((y) => y.period)).toEqual(['2023']);
      expect(years.reduce((s, y) => s + y.cost, 0)).toBeCloseTo(whole.cost, 2);
    }
    expect(figures.find((f) => f.run === 'ma-hedge' && f.period === null)!.hedgePnl).not.toBe(0);
    const months = periodFigures(hedged, 'month');
    expect(months.filter((f) => f.run === 'jit' && f.period !== null).map((f) => f.period)).toEqual(['2023-02', '2023-03', '2023-04', '2023-05', '2023-06']);
  });

  it('equals a danfo group-by of the exported daily frame, per year and per month, on three years of a two-material bundled scenario', async () => {
    // The bundled chocolate scenario (cocoa and sugar, World Bank prices, hedged) cut to 2019-2021:
    // years and months that span several materials, stockouts and a hedge.
    const dir = mkdtempSync(join(work, 'chocolate-'));
    const file = join(dir, 'scenario.yaml');
    const backtests = join(process.cwd(), 'backtests');
    writeFileSync(
      file,
      readFileSync(join(backtests, 'chocolate-worldbank.yaml'), 'utf8')
        .replace(/^# yaml-language-server.*\n/, '')
        .replace('from: "1995-01-01"', 'from: "2019-01-01"')
        .replace('to: "2026-06-30"', 'to: "2021-12-31"')
        .replace('plant: plants/', `plant: ${backtests}/plants/`)
        .replaceAll('file: data/', `file: ${backtests}/data/`),
    );
    const result = await backtestWithBaselines(loadScenario(file), { record: true });
    const { Series } = await loadDanfo();
    const frame = await dailyFrame(result);
    const runOrder = [...new Set(frame.column('run').values as string[])];
    const sums = { cost: 'sum', standard_value: 'sum', stockout: 'sum', carrying: 'sum', hedge_pnl: 'sum' } as const;
    const rows = (f: unknown): Record<string, number | string>[] => {
      const g = f as { values: (number | string)[][]; columns: string[] };
      return g.values.map((row) => Object.fromEntries(g.columns.map((name, i) => [name, row[i]!])));
    };
    const round2 = (x: number): number => Math.round(x * 100) / 100;
    const figure = (row: Record<string, number | string>, period: string | null): PeriodFigures => ({
      run: String(row.run),
      period,
      cost: round2(Number(row.cost_sum)),
      standardValue: round2(Number(row.standard_value_sum)),
      stockoutDays: Number(row.stockout_sum),
      carrying: round2(Number(row.carrying_sum)),
      hedgePnl: round2(Number(row.hedge_pnl_sum)),
    });
    for (const [by, length] of [['year', 4], ['month', 7]] as const) {
      const key = `period_${by}`;
      const dates = frame.column('date').values as string[];
      if (!frame.columns.includes(key)) frame.addColumn(key, new Series(dates.map((d) => d.slice(0, length))), { inplace: true });
      const grouped = [
        ...rows(frame.groupby(['run', key]).agg({ ...sums })).map((row) => figure(row, String(row[key]))),
        ...rows(frame.groupby(['run']).agg({ ...sums })).map((row) => figure(row, null)),
      ];
      const order = (p: string | null): string => p ?? '\uffff';
      grouped.sort((a, b) => (order(a.period) < order(b.period) ? -1 : order(a.period) > order(b.period) ? 1 : runOrder.indexOf(a.run) - runOrder.indexOf(b.run)));
      const direct = periodFigures(result, by);
      expect(direct).toHaveLength(grouped.length);
      expect(direct).toEqual(grouped);
    }
    const years = periodFigures(result, 'year');
    expect(years.filter((f) => f.run === result.run.strategy).map((f) => f.period)).toEqual(['2019', '2020', '2021', null]);
    expect(years.some((f) => f.stockoutDays > 0 || f.hedgePnl !== 0)).toBe(true);
  }, 120_000);
});

describe('the report data of a real run', () => {
  it('ends the cumulative saving curve at the headline\u2019s saving, and words the verdict by its sign', () => {
    const series = savingsSeries(small);
    for (const x of savings(small)) {
      const curve = series.baselines.find((b) => b.name === x.baseline)!.saving;
      expect(curve).toHaveLength(small.run.days);
      expect(Math.abs(curve[curve.length - 1]! - x.total.toNumber())).toBeLessThan(0.05);
    }
    const words = headline(small);
    expect(words.sentences.map((s) => s.baseline)).toEqual(['jit', 'schedule']);
    // The bootstrap interval of the analysis, and its verdict, are in the sentence.
    for (const [k, c] of small.analysis.comparisons.entries()) {
      expect(words.sentences[k]!.distinguishable).toBe(c.fullPeriod.distinguishable);
      expect(words.sentences[k]!.text).toContain(c.fullPeriod.distinguishable ? 'excludes zero' : `not distinguishable from ${c.baseline}`);
    }
    for (const [k, x] of savings(small).entries()) {
      const sentence = words.sentences[k]!;
      expect(sentence.verdict).toBe(x.perUnit.isNegative() ? 'lost' : 'saved');
      expect(sentence.text).toContain(x.perUnit.isNegative() ? 'more than' : 'saved');
      expect(sentence.text).toContain(`${x.perUnit.abs().toFixed(2)} USD per t of widget`);
    }
  });

  it('puts every run\u2019s warnings in the banner, the strategy\u2019s first', async () => {
    const data = await buildReportData(small);
    expect(data.warnings).toEqual([small.run, ...['jit', 'schedule'].map((b) => small.baselines.get(b)!)].flatMap((r) => r.warnings.map((w) => w.message)));
  });

  it('builds hedge series and a hedge P&L column only for a hedged scenario', async () => {
    const plain = await buildReportData(small);
    expect(plain.hedge).toBeNull();
    expect(plain.years.columns.map((c) => c.label)).not.toContain('Hedge P&L (USD)');
    const data = await buildReportData(hedged);
    expect(data.hedge!.materials.map((m) => m.id)).toEqual(['gas']);
    expect(data.hedge!.materials[0]!.hedged.some((q) => q > 0)).toBe(true);
    expect(data.hedge!.pnl.runs[0]!.name).toBe('ma-hedge');
    expect(data.hedge!.pnl.runs[0]!.values.at(-1)).toBeCloseTo(cents(hedged.run.hedgePnl), 2);
    expect(data.years.columns.map((c) => c.label)).toContain('Hedge P&L (USD)');
    expect(data.materials[0]!.markers.some((m) => m.kind === 'hedge')).toBe(true);
    expect(data.hedge!.pnl.runs.map((r) => r.name)).toContain('static-hedge');
    expect(data.budget.runs.map((r) => r.name)).toEqual(['ma-hedge', 'jit', 'schedule', 'static-hedge']);
    expect(data.budget.t).toHaveLength(5);
    // The hedged run's budget also shows it with the hedge taken out; the variance removed is in the table.
    expect(data.budget.runs[0]!.unhedged).not.toBeNull();
    expect(data.budget.runs[1]!.unhedged).toBeNull();
    expect(data.budget.table.columns).toContain('variance removed');
    expect(data.budget.runs[0]!.variance).toEqual(hedged.analysis.budget[0]!.figures.months.map((m) => Math.round((m.unitCost - m.standardUnitCost) * 1e4) / 1e4));
  });
});

describe('exportBacktest', () => {
  it('writes daily and trade CSVs with the documented headers, and JSON beside them when asked', async () => {
    const dir = join(work, 'export');
    const paths = await exportBacktest(small, dir, { json: true });
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(['daily.csv', 'trades.csv', 'daily.json', 'trades.json']);
    const daily = readFileSync(join(dir, 'daily.csv'), 'utf8').trimEnd().split('\n');
    expect(daily[0]).toBe(DAILY_COLUMNS.map((c) => c.name).join(','));
    expect(daily).toHaveLength(1 + 3 * small.run.days);
    expect(daily.every((line) => line.split(',').length === DAILY_COLUMNS.length)).toBe(true);
    const trades = readFileSync(join(dir, 'trades.csv'), 'utf8').trimEnd().split('\n');
    expect(trades[0]).toBe(TRADE_COLUMNS.map((c) => c.name).join(','));
    const json = JSON.parse(readFileSync(join(dir, 'daily.json'), 'utf8')) as Record<string, unknown>[];
    expect(json).toHaveLength(3 * small.run.days);
    expect(Object.keys(json[0]!)).toEqual(DAILY_COLUMNS.map((c) => c.name));
    expect((JSON.parse(readFileSync(join(dir, 'trades.json'), 'utf8')) as unknown[]).length).toBe(trades.length - 1);
  });

  it('refuses a path that is a file, naming the flag, and writes nothing', async () => {
    const file = join(work, 'not-a-dir');
    writeFileSync(file, 'x');
    const error = await exportBacktest(small, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/--export/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('the export columns in the docs', () => {
  it('lists every column of both files, in order, with its meaning, in docs/backtesting.md', () => {
    const docs = readFileSync('docs/backtesting.md', 'utf8');
    for (const columns of [DAILY_COLUMNS, TRADE_COLUMNS]) {
      const lines = columns.map((c) => `| \`${c.name}\` | ${c.doc} |`);
      const at = lines.map((line) => docs.indexOf(line));
      for (const [k, index] of at.entries()) expect(index, lines[k]).toBeGreaterThan(0);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    }
  });
});
