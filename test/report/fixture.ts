/**
 * A realistic synthetic report: two materials on seeded mean-reverting daily prices, a
 * 20/100 moving-average crossover that buys ahead on a cross up, forced reorders at the
 * reorder point, a hedge that opens and unwinds on crosses, the JIT and schedule
 * baselines, a sweep table, denials and stockouts. Deterministic for a given seed.
 */
import { Random } from '../../src/core/random.js';
import { DAY_MS, formatDate } from '../../src/core/time.js';
import type { BacktestReportData, MaterialReport, TradeMarker } from '../../src/report/types.js';

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

function material(id: string, name: string, unit: string, base: number, dailyUse: number, hedged: boolean, days: number, random: Random): MaterialReport {
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

  const buffer = dailyUse * 10;
  const reorderPoint = dailyUse * 15;
  const maxStock = dailyUse * 60;
  let onHandQty = dailyUse * 30;
  let strategyCost = 0;
  let strategyQty = 0;
  let jitCost = 0;
  let jitQty = 0;
  let scheduleCost = 0;
  let scheduleQty = 0;
  const trades: TradeMarker[] = [];
  const onHand: number[] = [];
  const strategy: (number | null)[] = [];
  const jit: (number | null)[] = [];
  const schedule: (number | null)[] = [];

  for (let i = 0; i < days; i += 1) {
    const price = close[i]!;
    const fast = fastMa[i];
    const slow = slowMa[i];
    const prevFast = fastMa[i - 1];
    const prevSlow = slowMa[i - 1];
    const crossUp = fast != null && slow != null && prevFast != null && prevSlow != null && prevFast <= prevSlow && fast > slow;
    const crossDown = fast != null && slow != null && prevFast != null && prevSlow != null && prevFast >= prevSlow && fast < slow;

    onHandQty -= dailyUse;
    jitCost += price * dailyUse;
    jitQty += dailyUse;
    if (i % 30 === 0) {
      scheduleCost += price * dailyUse * 30;
      scheduleQty += dailyUse * 30;
    }
    const fillAt = t[i]! + 14 * 3_600_000;
    if (onHandQty <= reorderPoint) {
      const qty = maxStock / 2 - onHandQty;
      onHandQty += qty;
      strategyCost += price * qty;
      strategyQty += qty;
      trades.push({ t: fillAt, price, side: 'buy', reason: 'forced-reorder', qty: round(qty, 2) });
    } else if (crossUp && onHandQty < maxStock / 2) {
      const qty = maxStock - onHandQty;
      onHandQty += qty;
      strategyCost += price * qty;
      strategyQty += qty;
      trades.push({ t: fillAt, price, side: 'buy', reason: 'procure', qty: round(qty, 2) });
    }
    if (hedged && crossUp) trades.push({ t: fillAt, price: round(price * 1.001, 4), side: 'buy', reason: 'hedge', qty: dailyUse * 20 });
    if (hedged && crossDown) trades.push({ t: fillAt, price: round(price * 0.999, 4), side: 'sell', reason: 'unwind', qty: dailyUse * 20 });

    onHand.push(round(onHandQty, 2));
    strategy.push(strategyQty > 0 ? round(strategyCost / strategyQty, 4) : null);
    jit.push(round(jitCost / jitQty, 4));
    schedule.push(scheduleQty > 0 ? round(scheduleCost / scheduleQty, 4) : null);
  }

  return {
    id,
    name,
    unit,
    price: { t, close, fastMa, slowMa, fastLabel: `MA ${FAST}`, slowLabel: `MA ${SLOW}` },
    trades,
    inventory: { t, onHand, buffer: t.map(() => buffer), reorderPoint: t.map(() => reorderPoint) },
    unitCost: { t, strategy, jit, schedule },
  };
}

/** Builds the fixture; `days` daily points per material series. */
export function syntheticReport(options: FixtureOptions): BacktestReportData {
  const random = new Random(options.seed);
  const hostile = options.hostile ? ` ${HOSTILE}` : '';
  const gas = material('natgas', `Natural gas (Henry Hub)${hostile}`, 'MMBtu', 3.2, 2_000, true, options.days, random);
  const power = material('power', 'Electricity (day-ahead)', 'MWh', 45, 150, false, options.days, random);

  const hedgeT = gas.price.t;
  const cumulative: number[] = [];
  let pnl = 0;
  for (let i = 0; i < hedgeT.length; i += 1) {
    pnl += 120 * random.normal();
    cumulative.push(round(pnl, 2));
  }
  const last = formatDate(START + (options.days - 1) * DAY_MS);

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
        { label: 'Effective unit cost, electricity (USD/MWh)', values: ['44.02', '45.11', '44.87'] },
        { label: 'Effective cost per tonne of ammonia (USD)', values: ['312.40', '324.81', '323.02'] },
        { label: 'Period-average price, natural gas', values: ['3.2350', null, null] },
        { label: 'Standard cost, natural gas', values: ['3.3000', null, null] },
        { label: 'Total spend (USD)', values: ['51,234,118.20', '53,201,877.45', '52,998,310.07'] },
        { label: 'Fees (USD)', values: ['25,901.33', '27,004.12', '26,480.55'] },
        { label: 'Carrying cost (USD)', values: ['412,380.00', '0.00', '88,102.40'] },
        { label: 'Hedge P&L (USD)', values: [String(cumulative[cumulative.length - 1] ?? 0), null, null] },
        { label: 'Hedge effectiveness', values: ['87.4 %', null, null] },
        { label: `Stockouts${hostile}`, values: ['3', '0', '1'] },
        { label: 'Peak inventory, natural gas (MMBtu)', values: ['120,000', '2,000', '62,000'] },
        { label: 'Average inventory, natural gas (MMBtu)', values: ['48,310', '1,000', '31,000'] },
        { label: 'Cost variance against standard (USD)', values: ['-2,912,004.10', '-1,020,118.75', '-1,222,407.60'] },
        { label: 'Orders', values: ['412', String(options.days), '267'] },
        { label: 'Risk denials', values: ['30', '0', '0'] },
      ],
    },
    materials: [gas, power],
    hedgePnl: { t: hedgeT, cumulative },
    sweep: {
      description: 'Walk-forward split: in-sample 2000-01-03 to 2014-12-31, out-of-sample 2015-01-01 to the end; ranked by in-sample effective unit cost.',
      columns: ['IS unit cost', 'IS stockouts', 'OOS unit cost', 'OOS stockouts'],
      rows: Array.from({ length: 20 }, (_, k) => ({
        rank: k + 1,
        params: `fast=${10 + 10 * (k % 5)} slow=${50 + 25 * Math.floor(k / 5)}`,
        values: [(3.05 + k * 0.01).toFixed(4), String(k % 3), (3.12 + ((k * 7) % 11) * 0.01).toFixed(4), String((k * 5) % 4)],
      })),
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
