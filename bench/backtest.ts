/**
 * Backtester benchmarks (issue 4):
 * - full-pipeline throughput on 1 M and 10 M synthetic one-minute bars (one instrument,
 *   production backflushed once a day), beside a raw Float64Array crossover backtest of the
 *   same bars in the same process;
 * The sweep target of issue 10 is in bench/sweep.ts.
 */
import { fileURLToPath } from 'node:url';
import { Decimal } from '../src/core/decimal.js';
import { Random } from '../src/core/random.js';
import { DAY_MS } from '../src/core/time.js';
import { planFromRate } from '../src/costfeed/index.js';
import { runBacktest } from '../src/engine/backtest.js';
import { loadScenario, type Scenario } from '../src/engine/scenario.js';
import { seriesFromArrays } from '../src/market/index.js';
import { measure, rateRow, type Bench } from './harness.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../bench/fixtures/${name}`, import.meta.url));

/** A random-walk one-minute series starting at `from`. */
function minuteBars(count: number, from: number, seed: number) {
  const random = new Random(seed);
  const at = new Float64Array(count);
  const close = new Float64Array(count);
  let price = 3.5;
  for (let i = 0; i < count; i += 1) {
    at[i] = from + i * 60_000;
    price = Math.max(0.5, price * (1 + 0.0008 * random.normal()));
    close[i] = price;
  }
  return seriesFromArrays({ id: 'synthetic-1m', at, close });
}

/** The reference: a raw crossover backtest (EMA fast/slow, buy a lot on each cross up, consume daily). */
function rawCrossover(close: Float64Array, fast: number, slow: number): number {
  const af = 2 / (fast + 1);
  const as = 2 / (slow + 1);
  let f = close[0]!;
  let s = close[0]!;
  let state = 0;
  let stock = 0;
  let cash = 0;
  for (let i = 1; i < close.length; i += 1) {
    const c = close[i]!;
    f += af * (c - f);
    s += as * (c - s);
    const next = f > s ? 1 : 0;
    if (next === 1 && state === 0) {
      stock += 2500;
      cash -= 2500 * c;
    }
    state = next;
    if (i % 1440 === 0) stock -= 2000;
  }
  return cash + stock;
}

function minuteScenario(bars: number): Scenario {
  const base = loadScenario(fixture('minute.yaml'));
  const from = Date.UTC(2000, 0, 1);
  const series = minuteBars(bars, from, 7);
  const days = Math.floor((bars * 60_000) / DAY_MS) - 1;
  const to = from + (days - 1) * DAY_MS;
  const plan = planFromRate({ product: 'ammonia', from, days: days + 40, ratePerDay: new Decimal(1500), noise: 0.05, seed: 1 }, base.plant);
  return { ...base, from: from + DAY_MS, to, plan, materials: base.materials.map((m) => ({ ...m, series })) };
}

export const bench: Bench = async (report) => {
  for (const bars of [1_000_000, 10_000_000]) {
    const scenario = minuteScenario(bars);
    let result: Awaited<ReturnType<typeof runBacktest>> | undefined;
    const timing = await measure(async () => {
      result = await runBacktest(scenario);
    });
    let sink = 0;
    const reference = await measure(() => {
      sink += rawCrossover(scenario.materials[0]!.series.close, 60, 240);
    });
    report(
      rateRow({
        name: `full pipeline, ${bars.toLocaleString('en-US')} one-minute bars (${result!.days} production days, ${result!.counters.orders} orders)`,
        count: bars,
        unit: 'bars/s',
        timing,
        reference: { name: 'raw Float64Array EMA crossover backtest', timing: reference },
        target: '>= 3,000,000 bars/s and reference/measured <= 15x',
        note: sink === 0 ? '' : `${(timing.cpuMs / result!.days).toFixed(3)} ms CPU per simulated day`,
      }),
    );
  }

};
