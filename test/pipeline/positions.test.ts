/**
 * Positions from fills. The average entry price of a position that a fill adds to is computed
 * when read (src/pipeline/positions.ts): these tests hold it, read at any point or never, to
 * the eager formula applied fill by fill.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, ZERO } from '../../src/core/decimal.js';
import { applyFillToPosition, Positions, type Position } from '../../src/pipeline/index.js';

type Side = 'buy' | 'sell';
interface TestFill {
  side: Side;
  qty: Decimal;
  price: Decimal;
  fee: Decimal;
}

/** The eager reference: each fill's average, realised result and quantity, in plain records. */
function reference(fills: readonly TestFill[]): { qty: string; avgPrice: string; realizedPnl: string; fees: string }[] {
  let qty = ZERO;
  let avg = ZERO;
  let realized = ZERO;
  let fees = ZERO;
  const out: { qty: string; avgPrice: string; realizedPnl: string; fees: string }[] = [];
  for (const f of fills) {
    const signed = f.side === 'buy' ? f.qty : f.qty.negated();
    const after = qty.plus(signed);
    if (qty.isZero() || qty.isPositive() === signed.isPositive()) {
      avg = qty.abs().times(avg).plus(f.qty.times(f.price)).dividedBy(after.abs());
    } else {
      const closed = f.qty.lessThan(qty.abs()) ? f.qty : qty.abs();
      const perUnit = qty.isPositive() ? f.price.minus(avg) : avg.minus(f.price);
      realized = realized.plus(perUnit.times(closed));
      if (after.isZero()) avg = ZERO;
      else if (after.isPositive() !== qty.isPositive()) avg = f.price;
    }
    qty = after;
    fees = fees.plus(f.fee);
    out.push({ qty: qty.toString(), avgPrice: avg.toString(), realizedPnl: realized.toString(), fees: fees.toString() });
  }
  return out;
}

const fillArb = fc.record({
  side: fc.constantFrom<Side>('buy', 'buy', 'sell'),
  qty: fc.integer({ min: 1, max: 1_000_000 }).map((n) => new Decimal(n).dividedBy(1000)),
  price: fc.integer({ min: 1, max: 10_000_000 }).map((n) => new Decimal(n).dividedBy(10_000)),
  fee: fc.integer({ min: 0, max: 10_000 }).map((n) => new Decimal(n).dividedBy(100)),
});

describe('applyFillToPosition', () => {
  it('gives the eager average, realised result and fees after every fill, read in any order or not at all', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 60 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), (fills, readNow) => {
        const want = reference(fills);
        const positions = new Positions();
        const seen: Position[] = [];
        fills.forEach((f, k) => {
          const p = positions.applyFill('x', f.side, { qty: f.qty, price: f.price, fee: f.fee });
          seen.push(p);
          // Some averages are read as they come, the rest only at the end (newest first, so a chain resolves from its far end).
          if (readNow[k]) expect(p.avgPrice.toString()).toBe(want[k]!.avgPrice);
        });
        for (let k = seen.length - 1; k >= 0; k -= 1) {
          const p = seen[k]!;
          expect({ qty: p.qty.toString(), avgPrice: p.avgPrice.toString(), realizedPnl: p.realizedPnl.toString(), fees: p.fees.toString() }).toEqual(want[k]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('computes the average of a 20,000-buy chain never read before (no deep recursion), and it is a plain field to JSON', () => {
    const fills: TestFill[] = Array.from({ length: 20_000 }, (_, k) => ({ side: 'buy', qty: new Decimal(1 + (k % 7)), price: new Decimal(3).plus(new Decimal(k % 13).dividedBy(7)), fee: ZERO }));
    let p = new Positions().get('x');
    for (const f of fills) p = applyFillToPosition(p, f.side, f);
    const want = reference(fills).at(-1)!;
    expect(p.avgPrice.toString()).toBe(want.avgPrice);
    expect(JSON.parse(JSON.stringify(p)).avgPrice).toBe(want.avgPrice);
  });
});
