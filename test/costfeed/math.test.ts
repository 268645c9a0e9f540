import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { squareRoot } from '../../src/costfeed/inventory-math.js';
import { Decimal } from '../../src/core/decimal.js';
import {
  bufferStock,
  carryingPerUnitDay,
  daysOfCover,
  exposureQty,
  inverseNormalCdf,
  meanAndSigma,
  normalCdf,
  reorderPoint,
  zForServiceLevel,
} from '../../src/costfeed/index.js';

const d = (s: string | number): Decimal => new Decimal(s);

describe('inverse normal CDF', () => {
  it('matches published quantiles', () => {
    // Reference values from standard normal tables (R qnorm, 16 digits).
    const known: Array<[number, number]> = [
      [0.5, 0],
      [0.8, 0.8416212335729143],
      [0.9, 1.2815515655446004],
      [0.95, 1.6448536269514722],
      [0.975, 1.959963984540054],
      [0.98, 2.0537489106318225],
      [0.99, 2.3263478740408408],
      [0.999, 3.090232306167813],
      [0.01, -2.3263478740408408],
      [1e-6, -4.753424308822899],
    ];
    for (const [p, z] of known) expect(Math.abs(inverseNormalCdf(p) - z)).toBeLessThan(1e-12);
    expect(inverseNormalCdf(0.95).toFixed(3)).toBe('1.645');
    expect(inverseNormalCdf(0.98).toFixed(3)).toBe('2.054');
  });

  it('inverts the CDF across (0, 1), tails included', () => {
    for (let k = 1; k < 1000; k += 1) {
      const p = k / 1000;
      expect(Math.abs(normalCdf(inverseNormalCdf(p)) - p)).toBeLessThan(1e-14);
    }
    for (const p of [1e-10, 1e-4, 0.02, 0.03, 0.97, 0.98, 1 - 1e-4]) expect(Math.abs(normalCdf(inverseNormalCdf(p)) - p) / Math.min(p, 1 - p)).toBeLessThan(1e-9);
  });

  it('refuses probabilities outside (0, 1) and service levels outside [0.5, 1)', () => {
    expect(() => inverseNormalCdf(0)).toThrow(RangeError);
    expect(() => inverseNormalCdf(1)).toThrow(RangeError);
    expect(() => zForServiceLevel(d('0.4'))).toThrow(/at least 0.5/);
    expect(() => zForServiceLevel(d('1'))).toThrow(/below 1/);
    expect(zForServiceLevel(d('0.95')).toFixed()).toBe('1.644854');
  });
});

describe('safety stock and reorder point: Jacobs & Chase "Retailers Warehouse"', () => {
  // D = 2400 sets/yr over 365 days, sigma_d = 4/day, L = 7 days, 98 % service.
  const mean = d(2400).dividedBy(365);
  const sigma = d(4);
  const lead = d(7);

  it('recomputes SS = 21.7 and ROP = 67.8 with z from the service level', () => {
    const z = zForServiceLevel(d('0.98'));
    const ss = bufferStock(z, sigma, lead);
    expect(ss.toFixed(1)).toBe('21.7');
    expect(mean.times(lead).toFixed(2)).toBe('46.03');
    expect(reorderPoint(mean, lead, ss).toFixed(1)).toBe('67.8');
    expect(reorderPoint(mean, lead, ss).toFixed(0)).toBe('68');
  });

  it('gives the same with the table z of 2.054', () => {
    const ss = bufferStock(d('2.054'), sigma, lead);
    expect(ss.toFixed(2)).toBe('21.74');
    expect(reorderPoint(mean, lead, ss).toFixed(1)).toBe('67.8');
  });
});

describe('carrying cost, cover, exposure, dispersion', () => {
  it('carrying per unit-day is value x rate / 365 + storage', () => {
    // 3.50 x 0.18 = 0.63 a year; / 365 = 0.0017260274 a day; + 0.002 storage.
    expect(carryingPerUnitDay(d('3.50'), d('0.18'), d('0.002')).toFixed(10)).toBe('0.0037260274');
    expect(carryingPerUnitDay(d('365'), d('0.10')).toFixed()).toBe('0.1');
  });

  it('days of cover counts stock on hand and on order; null when nothing is consumed', () => {
    expect(daysOfCover(d(600), d(300), d(90))!.toFixed()).toBe('10');
    expect(daysOfCover(d(600), d(0), d(0))).toBeNull();
  });

  it('exposure is what the horizon needs beyond stock, orders and hedges, never negative', () => {
    expect(exposureQty(d(1000), d(200), d(100), d(300)).toFixed()).toBe('400');
    expect(exposureQty(d(1000), d(800), d(100), d(300)).toFixed()).toBe('0');
  });

  it('mean and population sigma from sums', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population sigma 2.
    const xs = [2, 4, 4, 4, 5, 5, 7, 9].map(d);
    const total = xs.reduce((a, b) => a.plus(b), d(0));
    const squares = xs.reduce((a, b) => a.plus(b.times(b)), d(0));
    const { mean, sigma } = meanAndSigma(8, total, squares);
    expect(mean.toFixed()).toBe('5');
    expect(sigma.toFixed()).toBe('2');
    expect(meanAndSigma(0, d(0), d(0)).sigma.toFixed()).toBe('0');
  });
});

describe('squareRoot (the feed\'s exact square root)', () => {
  const same = (x: Decimal): void => {
    const fast = squareRoot(x) as unknown as { s: number; e: number; d: number[] };
    const slow = x.sqrt() as unknown as { s: number; e: number; d: number[] };
    // The same value and the same internal words (so every later operation and print is the same).
    expect({ s: fast.s, e: fast.e, d: fast.d }).toEqual({ s: slow.s, e: slow.e, d: slow.d });
  };

  it('equals decimal.js digit for digit on chosen values (exact roots, ties, tiny, huge)', () => {
    for (const text of ['1', '4', '2', '0.0001', '1e-30', '123456789012345678901234567890.123456789', '1e40', '9.99999999999999999999999999999999999999', '0.25', '1.21', '10', '1e-7', '1e7', '12345678', '0.5'])
      same(new Decimal(text));
  });

  it('equals decimal.js on random decimals of up to 40 digits and any exponent', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 40n - 1n }), fc.integer({ min: -60, max: 60 }), (n, shift) => {
        same(new Decimal(`${n}e${shift}`));
      }),
      { numRuns: 3000 },
    );
  });

  it('equals decimal.js on variances the feed computes (sums of squares of quantities, divided)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 2, maxLength: 90 }), fc.integer({ min: 0, max: 6 }), (qs, places) => {
        const xs = qs.map((q) => new Decimal(q).dividedBy(10 ** places));
        const sum = xs.reduce((a, b) => a.plus(b), new Decimal(0));
        const squares = xs.reduce((a, b) => a.plus(b.times(b)), new Decimal(0));
        const mean = sum.dividedBy(xs.length);
        const variance = squares.dividedBy(xs.length).minus(mean.times(mean));
        if (variance.isPositive() && !variance.isZero()) same(variance);
      }),
      { numRuns: 1000 },
    );
  });
});
