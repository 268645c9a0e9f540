/**
 * A realistic synthetic report: two materials on seeded mean-reverting daily prices, a
 * 20/100 moving-average crossover that buys ahead on a cross up, forced reorders at the
 * reorder point (many: they must not bury the price line), emergency purchases, a hedge that
 * opens and unwinds on crosses, the jit and schedule baselines, rolling windows, a 2-D sweep
 * with a refused cell, denials and stockouts. Deterministic for a given seed.
 */
import { Random } from '../../src/core/random.js';
import { DAY_MS, formatDate } from '../../src/core/time.js';
import type { BacktestReportData, MaterialReport, TradeKind, TradeMarker } from '../../src/report/types.js';

export interface FixtureOptions {
  days: number;
  seed: number;
  /** Strings that try to break out of the HTML, the JSON tag and the script. */
  hostile?: boolean;
}

export const HOSTILE = '</script><img src=x onerror="window.__pwned=1"><!-- \u2028\u2029 & "quotes" \'apos\'';

const START = Date.UTC(2000, 0, 3);
const FAST = 20;
const SLOW = 100;

function round(value: number, places: number): number {
  const f = 10 ** places;
  return Math.round(value * f) / f;
}

function movingAverage(values: readonly number[], window: number): (number | null)[] {
  const out: (number | null)[] = [];
  let total = 0;
  for (let i = 0; i < values.length; i += 1) {
    total += values[i]!;
    if (i >= window) total -= values[i - window]!;
    out.push(i >= window - 1 ? round(total / window, 4) : null);
  }
  return out;
}

interface Built {
  report: MaterialReport;
  /** Daily effective cost of the strategy and the two baselines. */
  cost: { strategy: number[]; jit: number[]; schedule: number[] };
  exposure: number[];
  hedged: number[];
}

function material(id: string, name: string, unit: string, base: number, dailyUse: number, hedged: boolean, days: number, random: Random): Built {
  const t: number[] = [];
  const close: number[] = [];
  let logPrice = Math.log(base);
  for (let i = 0; i < days; i += 1) {
    logPrice += 0.004 * (Math.log(base) - logPrice) + 0.022 * random.normal();
    t.push(START + i * DAY_MS);
    close.push(round(Math.exp(logPrice), 4));
  }
  const fastMa = movingAverage(close, FAST);
  const slowMa = movingAverage(close, SLOW);

  const bufferDays = 2;
  const leadTimeDays = 5;
  const reorderDays = bufferDays + leadTimeDays;
  let onHand = dailyUse * 12;
  let onOrder = 0;
  let arrivesAt = -1;
  let hedgedQty = 0;
  const markers: TradeMarker[] = [];
  const counts: Partial<Record<TradeKind, number>> = {};
  const count = (kind: TradeKind): void => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  const cover = { t, onHand: [] as (number | null)[], position: [] as (number | null)[], buffer: [] as (number | null)[], reorderPoint: [] as (number | null)[], leadTimeDays };
  const cost = { strategy: [] as number[], jit: [] as number[], schedule: [] as number[] };
  const exposure: number[] = [];
  const hedgedSeries: number[] = [];

  for (let i = 0; i < days; i += 1) {
    const price = close[i]!;
    const fast = fastMa[i];
    const slow = slowMa[i];
    const prevFast = fastMa[i - 1];
    const prevSlow = slowMa[i - 1];
    const crossUp = fast != null && slow != null && prevFast != null && prevSlow != null && prevFast <= prevSlow && fast > slow;
    const crossDown = fast != null && slow != null && prevFast != null && prevSlow != null && prevFast >= prevSlow && fast < slow;
    const fillAt = t[i]! + 14 * 3_600_000;
    let bought = 0;

    if (i === arrivesAt) {
      onHand += onOrder;
      onOrder = 0;
    }
    onHand -= dailyUse;
    // A late delivery now and then: the day's shortfall is bought at a premium.
    if (i % 997 === 50) onHand = Math.min(onHand, -dailyUse / 2);
    if (onHand < 0) {
      markers.push({ t: t[i]!, price: round(price * 1.25, 4), kind: 'emergency', side: 'buy', qty: round(-onHand, 2) });
      count('emergency');
      bought += -onHand * price * 1.25;
      onHand = 0;
    }
    if (crossUp && onOrder === 0) {
      const qty = dailyUse * 25;
      onOrder = qty;
      arrivesAt = i + leadTimeDays;
      markers.push({ t: fillAt, price, kind: 'buy-ahead', side: 'buy', qty });
      count('buy-ahead');
      bought += qty * price;
    } else if (onOrder === 0 && onHand <= dailyUse * reorderDays) {
      onOrder = dailyUse * 8;
      arrivesAt = i + leadTimeDays;
      markers.push({ t: fillAt, price, kind: 'forced-reorder', side: 'buy', qty: onOrder });
      count('forced-reorder');
      bought += onOrder * price;
    }
    if (hedged && crossUp) {
      markers.push({ t: fillAt, price: round(price * 1.001, 4), kind: 'hedge', side: 'buy', qty: dailyUse * 20 });
      count('hedge');
      hedgedQty += dailyUse * 20;
    }
    if (hedged && crossDown && hedgedQty > 0) {
      markers.push({ t: fillAt, price: round(price * 0.999, 4), kind: 'unwind', side: 'sell', qty: hedgedQty });
      count('unwind');
      hedgedQty = 0;
    }
    count('routine');

    cover.onHand.push(round(onHand / dailyUse, 2));
    cover.position.push(round((onHand + onOrder) / dailyUse, 2));
    cover.buffer.push(bufferDays);
    cover.reorderPoint.push(reorderDays);
    cost.strategy.push(round(bought + onHand * 0.0005 * price, 2));
    cost.jit.push(round(dailyUse * price, 2));
    cost.schedule.push(round(i % 30 === 0 ? dailyUse * 30 * price : 0, 2));
    const open = Math.max(0, dailyUse * 30 - onHand - onOrder);
    exposure.push(round(open, 2));
    hedgedSeries.push(Math.min(hedgedQty, open));
  }
  markers.sort((a, b) => a.t - b.t);

  return {
    report: {
      id,
      name,
      unit,
      price: { t, close, fastMa, slowMa, fastLabel: `MA ${FAST}`, slowLabel: `MA ${SLOW}`, priceUnit: `USD/${unit}` },
      markers,
      tradeCounts: counts,
      cover,
    },
    cost,
    exposure,
    hedged: hedgedSeries,
  };
}

const cumulative = (values: readonly number[]): number[] => {
  let total = 0;
  return values.map((v) => (total = round(total + v, 2)));
};

/** Builds the fixture; `days` daily points per material series. */
export function syntheticReport(options: FixtureOptions): BacktestReportData {
  const random = new Random(options.seed);
  const hostile = options.hostile ? ` ${HOSTILE}` : '';
  const gas = material('natgas', `Natural gas (Henry Hub)${hostile}`, 'MMBtu', 3.2, 2_000, true, options.days, random);
  const power = material('power', 'Electricity (day-ahead)', 'MWh', 45, 150, false, options.days, random);
  const t = gas.report.price.t;
  const last = formatDate(START + (options.days - 1) * DAY_MS);
  const total = (pick: (b: Built) => number[]): number[] => t.map((_, i) => pick(gas)[i]! + pick(power)[i]!);
  const daily = { s: total((b) => b.cost.strategy), j: total((b) => b.cost.jit), c: total((b) => b.cost.schedule) };
  const strategyCost = cumulative(daily.s);
  const jitCost = cumulative(daily.j);
  const scheduleCost = cumulative(daily.c);
  const pnl = cumulative(t.map(() => round(120 * random.normal(), 2)));

  // Monthly budget variance, and the trade list from the markers plus routine buys.
  const months: number[] = [];
  for (let d = new Date(START); d.getTime() <= t[t.length - 1]!; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) months.push(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const variance = (scale: number): number[] => months.map(() => round(scale * random.normal(), 2));
  const tradeRows = [...gas.report.markers.map((m) => ({ ...m, material: 'natgas', instrument: m.kind === 'hedge' || m.kind === 'unwind' ? 'NG-swap' : 'natgas' })), ...power.report.markers.map((m) => ({ ...m, material: 'power', instrument: 'power' }))].sort((a, b) => a.t - b.t);

  const years = new Map<number, { s: number; j: number; c: number }>();
  t.forEach((ti, i) => {
    const y = new Date(ti).getUTCFullYear();
    const row = years.get(y) ?? { s: 0, j: 0, c: 0 };
    row.s += daily.s[i]!;
    row.j += daily.j[i]!;
    row.c += daily.c[i]!;
    years.set(y, row);
  });

  const fastValues = [10, 20, 30, 40, 50];
  const slowValues = [50, 100, 150, 200];
  const grid = (offset: number): (number | null)[][] => slowValues.map((slow, yi) => fastValues.map((fast, xi) => (fast === 50 && slow === 50 ? null : round(3.05 + offset + 0.013 * ((xi * 7 + yi * 3) % 9), 4))));

  return {
    title: `Ammonia plant on Henry Hub gas: ma-procurement${hostile}`,
    scenario: {
      name: `ammonia-henry-hub${hostile}`,
      file: 'backtests/ammonia-henry-hub.yaml',
      configHash: '9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8',
      seed: options.seed,
      from: formatDate(START),
      to: last,
      strategy: `ma-procurement fast=${FAST} slow=${SLOW} maxCoverDays=60`,
    },
    currency: 'USD',
    product: { id: 'ammonia', unit: 't' },
    runs: ['ma-procurement', 'jit', 'schedule'],
    headline: {
      lead: 'ma-procurement beat schedule and lost to jit.',
      sentences: [
        { baseline: 'jit', verdict: 'lost', distinguishable: false, text: `ma-procurement cost 2.50 USD per t of ammonia more than jit (1.08 %): 39,988,467 USD more over the run.${hostile}` },
        { baseline: 'schedule', verdict: 'saved', distinguishable: true, text: 'ma-procurement saved 0.46 USD per t of ammonia against schedule (0.20 %): 7,261,117 USD over the run.' },
      ],
    },
    warnings: [`jit: natgas ran out of stock on 470 of ${options.days} days (5.9 %, above 2 %); each was covered by an emergency purchase at a premium.${hostile}`],
    assumptions: [
      'Market orders fill at the next bar\u2019s open; close-only series fill at the next close.',
      'Limit orders fill when the bar\u2019s range crosses the limit price.',
      'Fees: 5 bps of notional plus USD 2.50 per order.',
      `Slippage: 10 bps, or 2 % of bar volume where volume exists; the rest fills partially.${hostile}`,
      'Stockouts are covered by an emergency spot purchase at a 15 % premium.',
    ],
    summary: {
      columns: ['ma-procurement', 'jit', 'schedule'],
      rows: [
        { label: 'Effective unit cost, natural gas (USD/MMBtu)', values: ['3.1187', '3.2412', '3.2290'] },
        { label: 'Effective cost per tonne of ammonia (USD)', values: ['312.40', '324.81', '323.02'] },
        { label: 'Standard cost, natural gas', values: ['3.3000', null, null] },
        { label: 'Fees (USD)', values: ['25,901.33', '27,004.12', '26,480.55'] },
        { label: `Stockouts${hostile}`, values: ['3', '0', '1'] },
      ],
    },
    savings: {
      t,
      baselines: [
        { name: 'jit', saving: t.map((_, i) => round(jitCost[i]! - strategyCost[i]!, 2)) },
        { name: 'schedule', saving: t.map((_, i) => round(scheduleCost[i]! - strategyCost[i]!, 2)) },
      ],
    },
    rolling: {
      description: '12-month windows, monthly steps: the saving in each window in percent of the baseline\u2019s cost.',
      baselines: ['jit', 'schedule'].map((name, k) => {
        const ends = months.slice(12);
        const values = ends.map(() => round(0.4 * random.normal() + (k === 0 ? -0.3 : 0.2), 3));
        const sorted = [...values].sort((a, b) => a - b);
        const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
        return { name, window: '12 months', t: ends, savingPercent: values, median: q(0.5), p10: q(0.1), p90: q(0.9), shareWon: values.filter((v) => v > 0).length / Math.max(1, values.length) };
      }),
    },
    materials: [gas.report, power.report],
    trades: {
      t: tradeRows.map((r) => r.t),
      material: tradeRows.map((r) => r.material),
      instrument: tradeRows.map((r) => r.instrument),
      kind: tradeRows.map((r) => r.kind),
      side: tradeRows.map((r) => r.side),
      qty: tradeRows.map((r) => String(r.qty)),
      price: tradeRows.map((r) => String(r.price)),
      fee: tradeRows.map((r) => (r.qty * r.price * 0.0005).toFixed(2)),
      notional: tradeRows.map((r) => (r.qty * r.price).toFixed(2)),
    },
    hedge: {
      materials: [{ id: 'natgas', unit: 'MMBtu', t, exposure: gas.exposure, hedged: gas.hedged }],
      pnl: { t, runs: [{ name: 'ma-procurement', values: pnl }] },
    },
    budget: {
      unit: 'USD/t',
      t: months,
      runs: [
        { name: 'ma-procurement', variance: variance(4), unhedged: variance(6) },
        { name: 'jit', variance: variance(3), unhedged: null },
        { name: 'schedule', variance: variance(3.5), unhedged: null },
      ],
      table: {
        columns: ['sd (USD/t)', 'worst month (USD/t)', 'cumulative overrun (USD)', 'sd unhedged (USD/t)', 'variance removed', 'dollar offset'],
        rows: [
          { label: 'ma-procurement', values: ['4.02', '2008-07: +14.10', '1,204,330', '6.11', '56.7 %', '92.3 %'] },
          { label: 'jit', values: ['3.01', '2008-07: +12.00', '998,113', null, null, null] },
        ],
      },
      notes: ['sd: standard deviation of the monthly variance per unit.'],
    },
    years: {
      description: 'Each calendar year\u2019s effective cost for the strategy and each baseline.',
      columns: [
        { label: 'Year', numeric: true },
        { label: 'Run', numeric: false },
        { label: 'Effective cost (USD)', numeric: true },
        { label: 'Saving vs jit (USD)', numeric: true },
        { label: 'Stockout days', numeric: true },
      ],
      rows: [...years].flatMap(([year, y]) => [
        { cells: [String(year), 'ma-procurement', round(y.s, 0).toLocaleString('en-US'), round(y.j - y.s, 0).toLocaleString('en-US'), '1'], sort: [year, 0, y.s, y.j - y.s, 1], className: 'strategy' },
        { cells: [String(year), 'jit', round(y.j, 0).toLocaleString('en-US'), null, '0'], sort: [year, 1, y.j, null, 0] },
      ]),
    },
    sweep: {
      description: 'Walk-forward sweep of ma-procurement: 19 parameter sets, in sample 2000-01-03 to 2014-12-31, out of sample from 2015-01-01; ranked by in-sample cost.',
      metric: 'effective unit cost, USD per t of ammonia (lower is better)',
      x: { name: 'fast', values: fastValues },
      y: { name: 'slow', values: slowValues },
      note: '',
      inSample: grid(0),
      outOfSample: grid(0.04),
      baselines: [
        { name: 'jit', inSample: 3.09, outOfSample: 3.12 },
        { name: 'schedule', inSample: 3.1, outOfSample: 3.11 },
      ],
      bestInSample: [0, 0],
      table: {
        columns: [
          { label: 'In-sample rank', numeric: true },
          { label: 'fast', numeric: true },
          { label: 'slow', numeric: true },
          { label: 'In-sample cost (USD/t)', numeric: true },
          { label: 'Out-of-sample cost (USD/t)', numeric: true },
        ],
        rows: [
          { cells: ['baseline', 'jit', 'jit', '3.09', '3.12'], sort: [null, null, null, 3.09, 3.12], className: 'baseline' },
          ...Array.from({ length: 19 }, (_, k) => ({
            cells: [String(k + 1), String(fastValues[k % 5]), String(slowValues[Math.floor(k / 5)]), (3.05 + k * 0.01).toFixed(2), (3.12 + ((k * 7) % 11) * 0.01).toFixed(2)],
            sort: [k + 1, fastValues[k % 5]!, slowValues[Math.floor(k / 5)]!, 3.05 + k * 0.01, 3.12 + ((k * 7) % 11) * 0.01],
          })),
        ],
      },
    },
    denials: Array.from({ length: 30 }, (_, k) => ({
      date: formatDate(START + (200 + k * 97) * DAY_MS),
      subject: k % 2 === 0 ? 'natgas' : 'NG-futures',
      rule: k % 3 === 0 ? 'max-notional-per-day' : 'price-cap',
      detail: `notional 1,250,000.00 exceeds the daily limit 1,000,000.00${k === 0 ? hostile : ''}`,
    })),
    stockouts: [
      { date: formatDate(START + 1_200 * DAY_MS), material: 'natgas', qty: '1,500 MMBtu', emergencyCost: '5,520.00' },
      { date: formatDate(START + 3_310 * DAY_MS), material: 'power', qty: '40 MWh', emergencyCost: '2,070.00' },
      { date: formatDate(START + 6_001 * DAY_MS), material: 'natgas', qty: '800 MMBtu', emergencyCost: null },
    ],
  };
}
