import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { compare, eq, gt, gte, lt, lte, plusToZero } from '../../src/pipeline/compare.js';

/** Decimals of every kind the order path meets, and the odd ones: zeros of both signs, NaN, the infinities, long and tiny values. */
const decimal = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => new Decimal(n)),
  fc.tuple(fc.integer({ min: -99_999_999, max: 99_999_999 }), fc.integer({ min: 0, max: 12 })).map(([m, e]) => new Decimal(m).dividedBy(new Decimal(10).pow(e))),
  fc.double({ noNaN: false }).map((x) => new Decimal(x)),
  fc.constantFrom(new Decimal(0), new Decimal(-0), new Decimal(NaN), new Decimal(Infinity), new Decimal(-Infinity), new Decimal('1e-9000000000000000'), new Decimal('1.000000000000000000000000000000000000001'), new Decimal('-2500'), new Decimal('2500.0000001')),
);

describe('Decimal comparisons without a copy', () => {
  it('answer as decimal.js does for every pair', () => {
    fc.assert(
      fc.property(decimal, decimal, (x, y) => {
        expect(Object.is(compare(x, y), x.comparedTo(y))).toBe(true);
        expect(lt(x, y)).toBe(x.lessThan(y));
        expect(lte(x, y)).toBe(x.lessThanOrEqualTo(y));
        expect(gt(x, y)).toBe(x.greaterThan(y));
        expect(gte(x, y)).toBe(x.greaterThanOrEqualTo(y));
        expect(eq(x, y)).toBe(x.equals(y));
        // A value against itself and against an equal copy.
        expect(Object.is(compare(x, x), x.comparedTo(x))).toBe(true);
        expect(Object.is(compare(x, new Decimal(x)), x.comparedTo(new Decimal(x)))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('plusToZero', () => {
  it('gives the value, sign and digits of decimal.js plus for every pair, the addend itself when the zero adds nothing', () => {
    fc.assert(
      fc.property(fc.oneof(decimal, fc.constant(new Decimal(0))), decimal, (a, b) => {
        const sum = plusToZero(a, b);
        const expected = a.plus(b);
        expect(Object.is(sum.s, expected.s) && Object.is(sum.e, expected.e) && JSON.stringify(sum.d) === JSON.stringify(expected.d)).toBe(true);
        if (a.isZero() && !a.isNegative() && b.isFinite() && b.isPositive() && !b.isZero() && b.d.length <= 5) expect(sum).toBe(b);
      }),
      { numRuns: 5000 },
    );
    // Forty-one digits: the sum rounds to forty, so it is not the addend.
    const long = new Decimal('1.0000000000000000000000000000000000000001');
    expect(plusToZero(new Decimal(0), long).toFixed()).toBe(new Decimal(0).plus(long).toFixed());
    expect(plusToZero(new Decimal(0), long)).not.toBe(long);
    // Under a precision below 35 digits decimal.js rounds the addend: so does plusToZero.
    const Short = Decimal.clone({ precision: 10 });
    const twelve = new Short('123456.789012');
    const rounded = plusToZero(new Short(0), twelve);
    expect(rounded.toFixed()).toBe('123456.789');
    expect(rounded).not.toBe(twelve);
  });
});
