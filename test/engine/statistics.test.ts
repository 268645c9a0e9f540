/**
 * The figures luck cannot move, on hand-built daily totals: quantiles, monthly-step windows,
 * window savings, the block bootstrap on fixed seeds, and the monthly budget figures with a
 * hedge whose result counts in the month it covers. And on a real run: the daily costs add up
 * to the exact engine's total.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { DAY_MS } from '../../src/core/time.js';
import { runBacktest, type DailyCosts } from '../../src/engine/backtest.js';
import { loadScenario } from '../../src/engine/scenario.js';
import { blockBootstrap, blockBootstraps, budgetFigures, dailyProductCost, monthlyStepWindows, productCost, quantile, windowFigures } from '../../src/engine/statistics.js';

const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);

/**
 * Daily totals of a one-material run from `from` to `to`: 10 units made and consumed a day,
 * nothing held, paid `cost(t)` a day; the hedge's realised and marked results given per day.
 */
function synthetic(from: string, to: string, cost: (t: number) => number, hedge?: { mark: (t: number) => number; realized: (t: number) => number }, standard = 1): DailyCosts {
  const n = Math.round((day(to) - day(from)) / DAY_MS) + 1;
  const array = (): Float64Array => new Float64Array(n + 1);
  const d = { t: array(), units: array(), conversion: array(), materials: [{ id: 'm', paid: array(), financing: array(), hedge: array(), hedgeRealized: array(), held: array(), price: array(), consumed: array(), standard: array() }] };
  const m = d.materials[0]!;
  d.t[0] = day(from) - DAY_MS;
  for (let k = 1; k <= n; k += 1) {
    const t = day(from) + (k - 1) * DAY_MS;
    d.t[k] = t;
    d.units[k] = d.units[k - 1]! + 10;
    m.consumed[k] = m.consumed[k - 1]! + 10;
    m.paid[k] = m.paid[k - 1]! + cost(t);
    m.standard[k] = m.standard[k - 1]! + 10 * standard;
    m.price[k] = 1;
    if (hedge !== undefined) {
      m.hedge[k] = hedge.mark(t);
      m.hedgeRealized[k] = hedge.realized(t);
    }
  }
  m.price[0] = 1;
  return d;
}

describe('quantiles', () => {
  it('interpolate linearly between order statistics', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(1.4, 12);
    expect(quantile([7], 0.9)).toBe(7);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
});

describe('rolling windows', () => {
  it('start on each 1st of a month inside the run and end by its last day', () => {
    const d = synthetic('2020-01-15', '2021-03-31', () => 10);
    const spans = monthlyStepWindows(d.t, { months: 12 });
    // Feb 2020 - Jan 2021, Mar 2020 - Feb 2021, Apr 2020 - Mar 2021.
    expect(spans.map((s) => [new Date(d.t[s.a + 1]!).toISOString().slice(0, 10), new Date(d.t[s.b]!).toISOString().slice(0, 10)])).toEqual([
      ['2020-02-01', '2021-01-31'],
      ['2020-03-01', '2021-02-28'],
      ['2020-04-01', '2021-03-31'],
    ]);
    const short = monthlyStepWindows(d.t, { days: 30 });
    expect(short.length).toBe(14); // 2020-02-01 .. 2021-03-01
    expect(short.every((s) => s.b - s.a === 30)).toBe(true);
  });

  it('give the saving per window with its median, percentiles and share won', () => {
    // The baseline pays 100 a day; the run pays 99 a day in 2020 (1 % saving) and 102 in 2021 (-2 %).
    const base = synthetic('2020-01-01', '2021-12-31', () => 100);
    const run = synthetic('2020-01-01', '2021-12-31', (t) => (new Date(t).getUTCFullYear() === 2020 ? 99 : 102));
    const figures = windowFigures('12 months', base, run, monthlyStepWindows(base.t, { months: 12 }));
    expect(figures.count).toBe(13); // Jan 2020 .. Jan 2021 starts
    // The window starting in month k (0 = Jan 2020) has d2020 days at 99 and the rest of its days at 102.
    const expected = figures.windows.map((w) => {
      const from = day(w.from);
      const to = day(w.to);
      let baseCost = 0;
      let runCost = 0;
      for (let t = from; t <= to; t += DAY_MS) {
        baseCost += 100;
        runCost += new Date(t).getUTCFullYear() === 2020 ? 99 : 102;
      }
      return ((baseCost - runCost) / baseCost) * 100;
    });
    figures.windows.forEach((w, i) => expect(w.savingPercent).toBeCloseTo(expected[i]!, 10));
    expect(figures.windows[0]!.savingPercent).toBeCloseTo(1, 10); // calendar 2020
    expect(figures.windows[12]!.savingPercent).toBeCloseTo(-2, 10); // calendar 2021
    const sorted = [...expected].sort((a, b) => a - b);
    expect(figures.median).toBeCloseTo(sorted[6]!, 10);
    expect(figures.p10).toBeCloseTo(quantile(sorted, 0.1), 10);
    expect(figures.shareWon).toBeCloseTo(expected.filter((x) => x > 0).length / 13, 12);
  });
});

describe('block bootstrap', () => {
  it('collapses to the saving itself when every day saves the same share', () => {
    const base = synthetic('2020-01-01', '2022-09-26', () => 100);
    const run = synthetic('2020-01-01', '2022-09-26', () => 99);
    const b = blockBootstrap(dailyProductCost(base), dailyProductCost(run), { seed: 42 });
    expect(b.blockDays).toBe(10); // 1000 days: ceil(1000^(1/3))
    expect(b.savingPercent).toBeCloseTo(1, 12);
    expect(b.low).toBeCloseTo(1, 12);
    expect(b.high).toBeCloseTo(1, 12);
    expect(b.distinguishable).toBe(true);
  });

  // The definition, written the plain way: day k of a block starting at `start` is (start + j) mod n.
  const reference = (baseDaily: Float64Array, runDaily: Float64Array, seed: number, replicates: number): [number, number] => {
    const n = baseDaily.length - 1;
    const block = Math.max(1, Math.ceil(Math.cbrt(n)));
    const random = new Random(seed);
    const stats = new Float64Array(replicates);
    for (let r = 0; r < replicates; r += 1) {
      let d = 0;
      let s = 0;
      for (let taken = 0; taken < n; ) {
        const start = Math.floor(random.float() * n);
        const len = Math.min(block, n - taken);
        for (let j = 0; j < len; j += 1) {
          const k = ((start + j) % n) + 1;
          d += baseDaily[k]! - runDaily[k]!;
          s += baseDaily[k]!;
        }
        taken += len;
      }
      stats[r] = s === 0 ? 0 : (d / s) * 100;
    }
    stats.sort();
    return [quantile(stats, (1 - 0.95) / 2), quantile(stats, 1 - (1 - 0.95) / 2)];
  };

  it('draws circular blocks: the interval equals the definition (blocks wrapping past the last day) bit for bit', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 1, max: 1000, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true })), { minLength: 2, maxLength: 300 }), fc.integer({ min: 1, max: 1000 }), (days, seed) => {
        const base = Float64Array.from([0, ...days.map(([b]) => b)]);
        const run = Float64Array.from([0, ...days.map(([, r]) => r)]);
        const b = blockBootstrap(base, run, { seed, replicates: 50 });
        expect([b.low, b.high]).toEqual(reference(base, run, seed, 50));
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('bootstraps several baselines at once, each interval bit for bit the definition', () => {
    // Up to three baselines share a pass; four or five take two, and a baseline of another length its own.
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 2, maxLength: 200 }),
        fc.array(fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 2, maxLength: 200 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 1000 }),
        (runDays, baseDays, seed) => {
          const run = Float64Array.from([0, ...runDays]);
          // Most baselines as long as the run (the backtest's case), some shorter.
          const bases = baseDays.map((days, i) => Float64Array.from([0, ...(i % 3 === 2 ? days.slice(0, runDays.length) : runDays.map((_, k) => days[k % days.length]!))]));
          const all = blockBootstraps(bases, run, { seed, replicates: 40 });
          expect(all).toHaveLength(bases.length);
          bases.forEach((base, i) => {
            expect([all[i]!.low, all[i]!.high]).toEqual(reference(base, run, seed, 40));
            expect(all[i]).toEqual(blockBootstrap(base, run, { seed, replicates: 40 }));
          });
        },
      ),
      { numRuns: 100, seed: 12 },
    );
  });

  it('is reproducible for a seed, and calls a saving inside the noise not distinguishable', () => {
    // The run pays 100 + 30 or 100 - 30 in alternating 20-day stretches, plus 0.05 less on average: the noise swamps it.
    const base = synthetic('2020-01-01', '2022-09-26', () => 100);
    const run = synthetic('2020-01-01', '2022-09-26', (t) => 100 - 0.05 + (Math.floor((t - day('2020-01-01')) / DAY_MS / 20) % 2 === 0 ? 30 : -30));
    const one = blockBootstrap(dailyProductCost(base), dailyProductCost(run), { seed: 7, replicates: 500 });
    const two = blockBootstrap(dailyProductCost(base), dailyProductCost(run), { seed: 7, replicates: 500 });
    expect(one).toEqual(two);
    expect(one.low).toBeLessThan(0);
    expect(one.high).toBeGreaterThan(0);
    expect(one.distinguishable).toBe(false);
    const other = blockBootstrap(dailyProductCost(base), dailyProductCost(run), { seed: 8, replicates: 500 });
    expect(other.low).not.toBe(one.low);
  });

  it('on independent daily noise gives the textbook interval of a mean, saving +/- 1.96 sd / sqrt(n)', () => {
    // 1,000 days at 100; the run saves 0.2 a day with seeded noise of sd 5 a day: the saving in %
    // has sd 5 / sqrt(1000) = 0.158, so the 95 % interval is about +/- 0.31 around it.
    const random = new Random(3);
    const base = synthetic('2020-01-01', '2022-09-26', () => 100);
    const run = synthetic('2020-01-01', '2022-09-26', () => 100 - 0.2 + 5 * random.normal());
    const b = blockBootstrap(dailyProductCost(base), dailyProductCost(run), { seed: 11, replicates: 2000 });
    const half = (b.high - b.low) / 2;
    expect(half).toBeGreaterThan(0.31 * 0.85);
    expect(half).toBeLessThan(0.31 * 1.15);
    expect(Math.abs((b.high + b.low) / 2 - b.savingPercent)).toBeLessThan(0.05);
  });
});

describe('budget figures', () => {
  it('count a hedge result in the month its contract rolls off, and measure the variance it removed', () => {
    // Unhedged: 10 units a day at 1.0 in January, 1.3 in February, 0.9 in March, 1.2 in April (standard 1).
    // A hedge realises -(price - 1) x half the month's consumption on the month's last day (it locks half at 1).
    const price = (t: number): number => [1.0, 1.3, 0.9, 1.2][new Date(t).getUTCMonth()]!;
    const realized = (t: number): number => {
      let total = 0;
      for (let m = 0; m < 4; m += 1) {
        const end = Date.UTC(2021, m + 1, 0);
        if (t >= end) total += (([1.0, 1.3, 0.9, 1.2][m]! - 1) * 10 * new Date(end).getUTCDate()) / 2;
      }
      return total;
    };
    const d = synthetic('2021-01-01', '2021-04-30', (t) => 10 * price(t), { mark: realized, realized });
    const b = budgetFigures(d);
    expect(b.months.map((m) => m.month)).toEqual(['2021-01', '2021-02', '2021-03', '2021-04']);
    // Per unit: unhedged deviations 0, 0.3, -0.1, 0.2; hedged: half of them.
    expect(b.months.map((m) => m.unhedgedUnitCost - m.standardUnitCost).map((x) => Number(x.toFixed(10)))).toEqual([0, 0.3, -0.1, 0.2]);
    expect(b.months.map((m) => m.unitCost - m.standardUnitCost).map((x) => Number(x.toFixed(10)))).toEqual([0, 0.15, -0.05, 0.1]);
    expect(b.varianceRemoved).toBeCloseTo(0.75, 10); // 1 - (1/2)^2
    expect(b.worstMonth).toMatchObject({ month: '2021-02' });
    expect(b.worstMonth!.perUnit).toBeCloseTo(0.15, 10);
    // Dollar offset: hedge result / unhedged overrun = 1/2.
    expect(b.dollarOffset).toBeCloseTo(0.5, 10);
    expect(b.dollarOffsetEffective).toBe(false);
  });
});

describe('daily product cost', () => {
  it('is productCost over each day bit for bit, with several materials and a hedge', () => {
    const value = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 60 }), fc.infiniteStream(value), (materials, days, values) => {
        const next = (): Float64Array => Float64Array.from({ length: days + 1 }, () => values.next().value as number);
        const daily: DailyCosts = {
          t: Float64Array.from({ length: days + 1 }, (_, k) => day('2020-01-01') + k * DAY_MS),
          units: next(),
          conversion: next(),
          materials: Array.from({ length: materials }, (_, i) => ({ id: `m${i}`, paid: next(), financing: next(), hedge: next(), hedgeRealized: next(), held: next(), price: next(), consumed: next(), standard: next() })),
        };
        const costs = dailyProductCost(daily);
        for (let k = 1; k <= days; k += 1) expect(costs[k]).toBe(productCost(daily, k - 1, k));
      }),
      { numRuns: 200, seed: 5 },
    );
  });
});

describe('daily costs of a real run', () => {
  it('add up to the exact engine\'s total cost', async () => {
    const scenario = loadScenario('test/engine/fixtures/small.yaml');
    const run = await runBacktest(scenario);
    const n = run.daily.t.length - 1;
    expect(n).toBe(run.days);
    const total = productCost(run.daily, 0, n);
    const exact = run.productUnitCost.times(run.unitsProduced).toNumber();
    expect(Math.abs(total - exact) / exact).toBeLessThan(1e-9);
    const daily = dailyProductCost(run.daily);
    expect(daily.reduce((s, x) => s + x, 0)).toBeCloseTo(total, 4);
  });
});
