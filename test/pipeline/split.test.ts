/** Child quantities of an order above the per-order notional limit (Pipeline.submitAll's split). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { splitQuantity, type MarketRules } from '../../src/pipeline/index.js';

const rules = (step: string, minQty = '0', minNotional = '0'): MarketRules =>
  ({ symbol: 'PAXG/USDT', lotStep: new Decimal(step), tickSize: new Decimal('0.01'), minQty: new Decimal(minQty), minNotional: new Decimal(minNotional) }) as MarketRules;

describe('splitQuantity', () => {
  it('splits 14.3777 at 2585.6 under 10,000 into 4 children one step apart, summing to the order', () => {
    const children = splitQuantity(new Decimal('14.3777'), new Decimal('2585.6'), new Decimal('10000'), 10, rules('0.0001'))!;
    expect(children.map((c) => c.toFixed())).toEqual(['3.5945', '3.5944', '3.5944', '3.5944']);
  });

  it('gives up (undefined) beyond maxChildren or below the market minimums', () => {
    expect(splitQuantity(new Decimal('100'), new Decimal('100'), new Decimal('1000'), 5, rules('0.01'))).toBeUndefined();
    expect(splitQuantity(new Decimal('1'), new Decimal('100'), new Decimal('60'), 10, rules('0.01', '0.6'))).toBeUndefined();
    expect(splitQuantity(new Decimal('1'), new Decimal('100'), new Decimal('60'), 1, rules('0.01'))).toBeUndefined();
  });

  it('every child within the limit, on the lot step, at most one more than the fewest, summing exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 2_000_000 }), fc.integer({ min: 1, max: 500_000 }), fc.integer({ min: 1, max: 100_000 }), (steps, cents, limitCents) => {
        const step = new Decimal('0.0001');
        const qty = step.times(steps);
        const price = new Decimal(cents).dividedBy(100);
        const max = new Decimal(limitCents);
        if (qty.times(price).lessThanOrEqualTo(max)) return;
        const children = splitQuantity(qty, price, max, 100, rules('0.0001'));
        if (children === undefined) return;
        expect(children.reduce((a, b) => a.plus(b), new Decimal(0)).equals(qty)).toBe(true);
        for (const child of children) {
          expect(child.times(price).lessThanOrEqualTo(max)).toBe(true);
          expect(child.dividedBy(step).isInteger()).toBe(true);
          expect(child.isPositive() && !child.isZero()).toBe(true);
        }
        // The fewest that fit: a child holds at most floor(max / (step x price)) lot steps. (The
        // earlier bound, ceil(notional / max) + 1, is wrong when a lot step is a large share of the
        // limit: 11 steps of 0.0001 at 3,333.34 with a limit of 1 fit 2 steps a child, so 6 children
        // where that bound said 5; fast-check found it, seed 379201968.)
        const perChild = max.dividedBy(step.times(price)).floor().toNumber();
        expect(children.length).toBe(Math.ceil(steps / perChild));
      }),
      { numRuns: 300 },
    );
  });

  it('the fewest children when a lot step is a large share of the limit (the case fast-check found)', () => {
    const children = splitQuantity(new Decimal('0.0011'), new Decimal('3333.34'), new Decimal('1'), 100, rules('0.0001'));
    expect(children?.map((c) => c.toFixed())).toEqual(['0.0002', '0.0002', '0.0002', '0.0002', '0.0002', '0.0001']);
  });
});
