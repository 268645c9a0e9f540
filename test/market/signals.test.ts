import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SMA, EMA } from 'technicalindicators';
import { InputError } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import { loadSeries } from '../../src/market/series.js';
import {
  CrossoverStream,
  crossover,
  crossoverStates,
  emaFast,
  movingAverageReference,
  smaFast,
  type CrossoverParams,
  type MovingAverageKind,
} from '../../src/market/signals.js';

const f64 = (values: number[]): Float64Array => Float64Array.from(values);

describe('crossover semantics on hand-built series', () => {
  it('the first defined bar sets the state without an event; later changes are crossings', () => {
    // fast = SMA(1) = the close, slow = SMA(2).
    const close = f64([1, 3, 2, 1, 2, 4, 3]);
    const r = crossover(close, { fast: 1, slow: 2, ma: 'sma' });
    expect(Array.from(r.slow)).toEqual([NaN, 2, 2.5, 1.5, 1.5, 3, 3.5]);
    // bar1: 3 > 2 -> 1 (first, no event); bar2: 2 < 2.5 -> 0 down; bar3: 1 < 1.5 -> 0;
    // bar4: 2 > 1.5 -> 1 up; bar5: 4 > 3 -> 1; bar6: 3 < 3.5 -> 0 down.
    expect(Array.from(r.state)).toEqual([-1, 1, 0, 0, 1, 1, 0]);
    expect(r.firstDefined).toBe(1);
    expect(r.crossings).toEqual([
      { index: 2, direction: 'down' },
      { index: 4, direction: 'up' },
      { index: 6, direction: 'down' },
    ]);
  });

  it('starting above the slow average is not a cross up', () => {
    const r = crossover(f64([1, 2, 3, 4, 5]), { fast: 1, slow: 3, ma: 'sma' });
    expect(Array.from(r.state)).toEqual([-1, -1, 1, 1, 1]);
    expect(r.crossings).toEqual([]);
  });

  it('equal averages keep the previous state (and give 0 on the first defined bar)', () => {
    // Hand-made averages: equal on the first defined bar, then above, equal, below, equal.
    const fast = f64([NaN, 5, 6, 6, 4, 4, 7]);
    const slow = f64([NaN, 5, 5, 6, 5, 4, 4]);
    const r = crossoverStates(fast, slow);
    expect(Array.from(r.state)).toEqual([-1, 0, 1, 1, 0, 0, 1]);
    expect(r.crossings).toEqual([
      { index: 2, direction: 'up' },
      { index: 4, direction: 'down' },
      { index: 6, direction: 'up' },
    ]);
    // The same through prices: a flat series keeps fast == slow and never crosses.
    const flat = crossover(f64([2, 2, 2, 2, 3, 3, 3, 3]), { fast: 1, slow: 3, ma: 'sma' });
    expect(Array.from(flat.state)).toEqual([-1, -1, 0, 0, 1, 1, 1, 1]);
    expect(flat.crossings).toEqual([{ index: 4, direction: 'up' }]);
  });

  it('negative prices do not break the averages (WTI 2020-04-20)', () => {
    const r = crossover(f64([18.3, 10.0, -36.98, 8.9, 13.8]), { fast: 1, slow: 2, ma: 'sma' });
    expect(r.slow[2]).toBeCloseTo((10 - 36.98) / 2, 12);
    // slow: 14.15, -13.49, -14.04, 11.35; fast (the close) is below, below, above, above.
    expect(Array.from(r.state)).toEqual([-1, 0, 0, 1, 1]);
    expect(r.crossings).toEqual([{ index: 3, direction: 'up' }]);
  });

  it('refuses fast >= slow, windows < 1, non-integers and too few bars, naming the field', () => {
    const close = f64([1, 2, 3]);
    const fieldOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return (error as InputError).where.field;
      }
      throw new Error('expected an error');
    };
    expect(fieldOf(() => crossover(close, { fast: 3, slow: 3, ma: 'sma' }))).toBe('fast');
    expect(fieldOf(() => crossover(close, { fast: 0, slow: 2, ma: 'sma' }))).toBe('fast');
    expect(fieldOf(() => crossover(close, { fast: 1, slow: 2.5, ma: 'sma' }))).toBe('slow');
    expect(fieldOf(() => crossover(close, { fast: 1, slow: 2, ma: 'wma' as MovingAverageKind }))).toBe('ma');
    expect(fieldOf(() => new CrossoverStream({ fast: 5, slow: 2, ma: 'ema' }))).toBe('fast');
    let error: unknown;
    try {
      crossover(close, { fast: 2, slow: 4, ma: 'ema' }, { where: { file: 'short.csv' } });
    } catch (e) {
      error = e;
    }
    expect((error as InputError).where).toEqual({ file: 'short.csv', field: 'slow' });
    expect((error as InputError).message).toMatch(/^short\.csv: field "slow": .*4 bars.*has 3/);
    expect(() => crossover(f64([1, NaN, 3]), { fast: 1, slow: 2, ma: 'sma' })).toThrow(InputError);
    expect(() => new CrossoverStream({ fast: 1, slow: 2, ma: 'sma' }).update(Infinity)).toThrow(InputError);
  });
});

function streamAll(close: Float64Array, params: CrossoverParams) {
  const stream = new CrossoverStream(params);
  return Array.from(close, (x) => stream.update(x));
}

const finitePrice = fc.double({ min: -200, max: 200, noNaN: true, noDefaultInfinity: true });
// Integer-valued prices make equal averages (and thus the "keep state" rule) common.
const tieProne = fc.integer({ min: -3, max: 3 });

describe('batch == streaming on every bar (property)', () => {
  it('same averages, states and crossings for SMA and EMA', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.array(finitePrice, { minLength: 0, maxLength: 120 }), fc.array(tieProne, { minLength: 0, maxLength: 120 })),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 15 }),
        fc.constantFrom<MovingAverageKind>('sma', 'ema'),
        (values, fast, extra, ma) => {
          const params = { fast, slow: fast + extra, ma };
          const close = f64(values);
          const steps = streamAll(close, params);
          if (close.length < params.slow) {
            expect(() => crossover(close, params)).toThrow(InputError);
            expect(steps.every((s) => s.state === -1 && s.crossing === undefined)).toBe(true);
            return;
          }
          const batch = crossover(close, params);
          const byIndex = new Map(batch.crossings.map((c) => [c.index, c.direction]));
          steps.forEach((step, i) => {
            expect(Object.is(step.fast, batch.fast[i]!)).toBe(true);
            expect(Object.is(step.slow, batch.slow[i]!)).toBe(true);
            expect(step.state).toBe(batch.state[i]);
            expect(step.crossing).toBe(byIndex.get(i));
          });
        },
      ),
      { numRuns: 400, seed: 20240503 },
    );
  });
});

function expectClose(actual: Float64Array, expected: Float64Array, rel = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i += 1) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(a).toBeNaN();
      continue;
    }
    const error = Math.abs(a - e) / Math.max(Math.abs(e), 1e-12);
    worst = Math.max(worst, error);
  }
  expect(worst).toBeLessThanOrEqual(rel);
}

describe('fast engine == technicalindicators', () => {
  const real = [
    loadSeries('backtests/data/oil-prices/wti-daily.csv'),
    loadSeries('backtests/data/oil-prices/brent-daily.csv'),
    loadSeries('backtests/data/natural-gas/daily.csv'),
    loadSeries('backtests/data/worldbank-pink-sheet/monthly-prices.csv', { column: 'copper' }),
  ];
  for (const series of real) {
    it(`on ${series.id} (${series.length} bars), SMA and EMA, several windows`, () => {
      for (const period of [1, 2, 5, 20, 50, 200]) {
        expectClose(smaFast(series.close, period), movingAverageReference(series.close, period, 'sma'));
        expectClose(emaFast(series.close, period), movingAverageReference(series.close, period, 'ema'));
      }
      // And the signals built on them.
      for (const ma of ['sma', 'ema'] as const) {
        const fast = crossover(series.close, { fast: 20, slow: 50, ma });
        const reference = crossover(series.close, { fast: 20, slow: 50, ma }, { engine: 'technicalindicators' });
        expect(fast.crossings).toEqual(reference.crossings);
        expect(fast.crossings.length).toBeGreaterThan(0);
      }
    });
  }

  it('on random series (random walks with drift and noise, 1..100k scale)', () => {
    const random = new Random(7);
    for (let run = 0; run < 40; run += 1) {
      const n = random.int(1, 3000);
      const scale = 10 ** random.int(0, 5);
      const close = new Float64Array(n);
      let x = scale;
      for (let i = 0; i < n; i += 1) {
        x += random.normal() * scale * 0.02;
        close[i] = x;
      }
      const period = random.int(1, Math.max(1, Math.min(n, 300)));
      expectClose(smaFast(close, period), movingAverageReference(close, period, 'sma'));
      expectClose(emaFast(close, period), movingAverageReference(close, period, 'ema'));
    }
  });

  it('the reference wrapper really is technicalindicators (pads its output with NaN)', () => {
    const values = [1, 2, 3, 4, 5, 6];
    const sma = movingAverageReference(f64(values), 3, 'sma');
    expect(Array.from(sma.subarray(2))).toEqual(SMA.calculate({ period: 3, values }));
    const ema = movingAverageReference(f64(values), 3, 'ema');
    expect(Array.from(ema.subarray(2))).toEqual(EMA.calculate({ period: 3, values }));
    expect(Number.isNaN(sma[1]!)).toBe(true);
  });
});
