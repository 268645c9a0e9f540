import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import { dividedBy, fromDecimal, fromInteger, integerSqrt, minus, plus, same, squareRootOf, times, toDecimal, type X } from '../../src/costfeed/exact40.js';
import { sigmaFromSums, sigmaFromSumsX, sigmaLeadTimeDemandWith, sigmaLeadTimeDemandWithX } from '../../src/costfeed/inventory-math.js';

type Words = { s: number; e: number; d: number[] };
const words = (x: Decimal): Words => {
  const w = x as unknown as Words;
  return { s: w.s, e: w.e, d: [...w.d] };
};
/** The BigInt result, turned into a Decimal, has the same value and the same internal words as decimal.js's. */
const expectSame = (fast: X, slow: Decimal): void => {
  expect(words(toDecimal(fast))).toEqual(words(slow.isZero() ? new Decimal(0) : slow));
  expect(same(fast, fromDecimal(slow))).toBe(true);
};

// Decimals of up to 45 digits (some wider than the 40-digit precision, as inputs can be) at any exponent, either sign.
const decimalArb = fc
  .tuple(fc.bigInt({ min: -(10n ** 45n), max: 10n ** 45n }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 45 }))
  .map(([n, shift, cut]) => {
    const digits = (n < 0n ? -n : n).toString().slice(0, cut);
    return new Decimal(`${n < 0n ? '-' : ''}${digits}e${shift}`);
  });
// Values like the feed's: quantities with a few places, and their sums.
const quantityArb = fc.tuple(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 8 })).map(([q, p]) => new Decimal(q).dividedBy(10 ** p));

describe('exact40: decimal.js arithmetic on BigInt coefficients', () => {
  it('reads and writes a Decimal exactly (same words)', () => {
    fc.assert(
      fc.property(decimalArb, (x) => {
        expect(words(toDecimal(fromDecimal(x)))).toEqual(words(x.isZero() ? new Decimal(0) : x));
      }),
      { numRuns: 2000 },
    );
  });

  it('plus, minus, times, dividedBy equal decimal.js on random and feed-like values', () => {
    const check = (a: Decimal, b: Decimal): void => {
      const x = fromDecimal(a);
      const y = fromDecimal(b);
      expectSame(plus(x, y), a.plus(b));
      expectSame(minus(x, y), a.minus(b));
      expectSame(times(x, y), a.times(b));
      if (!b.isZero()) expectSame(dividedBy(x, y), a.dividedBy(b));
    };
    fc.assert(fc.property(decimalArb, decimalArb, check), { numRuns: 4000 });
    fc.assert(fc.property(quantityArb, quantityArb, check), { numRuns: 2000 });
    fc.assert(
      fc.property(decimalArb, fc.integer({ min: 1, max: 100_000 }), (a, n) => {
        expectSame(dividedBy(fromDecimal(a), fromInteger(n)), a.dividedBy(n));
      }),
      { numRuns: 2000 },
    );
  });

  it('rounds ties half to even, carries 99..9 up, and cancels to zero like decimal.js', () => {
    const cases: [string, string][] = [
      ['1234567890123456789012345678901234567890', '0.5'],
      ['1234567890123456789012345678901234567891', '0.5'],
      ['1234567890123456789012345678901234567891', '0.4999999999'],
      ['9999999999999999999999999999999999999999', '0.5'],
      ['9999999999999999999999999999999999999999', '9999999999999999999999999999999999999999'],
      ['-9999999999999999999999999999999999999999', '-0.5'],
      ['1e40', '-1e-40'],
      ['1e40', '1e-60'],
      ['-1e40', '1e-60'],
      ['12.5', '-12.5'],
      ['0', '-3'],
      ['1', '3'],
      ['2', '3'],
      ['1', '8'],
      ['5', '2'],
      // Quotients of 40 nines and a half (carried up to 10^40) or a quarter (kept), negative too.
      ['19999999999999999999999999999999999999999', '2'],
      ['-19999999999999999999999999999999999999999', '2'],
      ['39999999999999999999999999999999999999997', '4'],
      ['1', '7'],
      ['-2', '7'],
    ];
    for (const [p, q] of cases) {
      const a = new Decimal(p);
      const b = new Decimal(q);
      expectSame(plus(fromDecimal(a), fromDecimal(b)), a.plus(b));
      expectSame(minus(fromDecimal(a), fromDecimal(b)), a.minus(b));
      expectSame(times(fromDecimal(a), fromDecimal(b)), a.times(b));
      if (!b.isZero()) expectSame(dividedBy(fromDecimal(a), fromDecimal(b)), a.dividedBy(b));
    }
    // Halves of odd 41-digit integers: exact ties at the 40th digit.
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 40n, max: 10n ** 41n - 1n }), (n) => {
        const a = new Decimal((n | 1n).toString());
        expectSame(dividedBy(fromDecimal(a), fromInteger(2)), a.dividedBy(2));
        expectSame(plus(fromDecimal(a), fromInteger(0)), a.plus(0));
      }),
      { numRuns: 1000 },
    );
  });

  it('rounds a wide coefficient at every number of dropped digits: ties both ways, one either side of half, carries', () => {
    // An exact value of 41 to 100 digits, K x 10^drop + tail, rounded by plus(x, 0) as decimal.js
    // rounds a.plus(0) (constructing the Decimal keeps every digit): the tail at half of 10^drop,
    // one below and above it, zero and the largest, under kept parts of either parity and 99..9.
    const check = (n: bigint, shift: number): void => {
      const a = new Decimal(`${n}e${shift}`);
      expectSame(plus(fromDecimal(a), fromInteger(0)), a.plus(0));
      expectSame(minus(fromInteger(0), fromDecimal(a)), new Decimal(0).minus(a));
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 39n, max: 10n ** 40n - 1n }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: -40, max: 40 }), fc.boolean(), (k, drop, shift, negative) => {
        const scale = 10n ** BigInt(drop);
        const half = scale / 2n;
        for (const kept of [k, k | 1n, k & ~1n, 10n ** 40n - 1n, 10n ** 40n - 2n]) {
          for (const tail of [half, half - 1n, half + 1n, 0n, 1n, scale - 1n]) {
            const n = kept * scale + tail;
            check(negative ? -n : n, shift);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('products and sums that round at 41 to 80 digits equal decimal.js, ties included', () => {
    // 40-digit values times small and 40-digit ones, and sums across exponents, with the
    // coefficients' last digits chosen so that halves come up (x 5, x 25, x 125 ...).
    const fortyDigits = fc.bigInt({ min: 10n ** 39n, max: 10n ** 40n - 1n });
    const factor = fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.constantFrom(2n, 5n, 25n, 125n, 625n, 5n ** 20n, 2n ** 50n, 9007199254740993n), fortyDigits);
    fc.assert(
      fc.property(fortyDigits, factor, fc.integer({ min: -45, max: 45 }), fc.integer({ min: -45, max: 45 }), fc.boolean(), (m, f, e1, e2, negative) => {
        const a = new Decimal(`${negative ? '-' : ''}${m}e${e1}`);
        const b = new Decimal(`${f}e${e2}`);
        const x = fromDecimal(a);
        const y = fromDecimal(b);
        expectSame(times(x, y), a.times(b));
        expectSame(plus(x, y), a.plus(b));
        expectSame(minus(x, y), a.minus(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('integerSqrt is floor(sqrt(n)) at every size, next to perfect squares too', () => {
    const floorRoot = (n: bigint): void => {
      const r = integerSqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 130n }), fc.integer({ min: 0, max: 130 }), (n, cut) => {
        floorRoot(n / 10n ** BigInt(cut));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 60n }), (k) => {
        for (const n of [k * k - 1n, k * k, k * k + 1n, (k + 1n) * (k + 1n) - 1n]) floorRoot(n);
      }),
      { numRuns: 2000 },
    );
  });

  it('integerSqrt is floor(sqrt(n)) where its double-double start applies (2^106 to 1e96) and at its edges', () => {
    const floorRoot = (n: bigint): void => {
      const r = integerSqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    };
    for (const n of [2n ** 106n - 1n, 2n ** 106n, 2n ** 106n + 1n, 10n ** 96n - 1n, 10n ** 96n, 10n ** 96n + 1n, 10n ** 80n - 1n, 10n ** 79n]) floorRoot(n);
    // Roots from just above 2^53 (where the start's error bound is tightest) to 1e48, at, below and above squares.
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 2n ** 60n }), fc.bigInt({ min: 10n ** 39n, max: 10n ** 40n }), fc.bigInt({ min: 2n ** 53n, max: 10n ** 48n - 1n })), (k) => {
        for (const n of [k * k - 1n, k * k, k * k + 1n, k * k + k, k * k + 2n * k]) floorRoot(n);
      }),
      { numRuns: 3000 },
    );
  });

  it('squareRootOf equals decimal.js sqrt', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 40n - 1n }), fc.integer({ min: -60, max: 60 }), (n, shift) => {
        const x = new Decimal(`${n}e${shift}`);
        expectSame(squareRootOf(fromDecimal(x)), x.sqrt());
      }),
      { numRuns: 2000 },
    );
    for (const text of ['1', '4', '2', '0.25', '1.21', '1e-30', '1e40', '9.99999999999999999999999999999999999999']) expectSame(squareRootOf(fromDecimal(new Decimal(text))), new Decimal(text).sqrt());
  });

  it('squareRootOf equals decimal.js sqrt on wide coefficients, near perfect squares and where the root rounds up to a power of ten', () => {
    // Coefficients of up to 100 digits: 79 and fewer are padded to an exact root of `precision`
    // digits, wider ones take the sticky-bit form.
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 100n }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: -60, max: 60 }), (n, cut, shift) => {
        const c = n / 10n ** BigInt(cut) || 1n;
        const x = new Decimal(`${c}e${shift}`);
        expectSame(squareRootOf(fromDecimal(x)), x.sqrt());
      }),
      { numRuns: 3000 },
    );
    // Squares of 40-digit roots and their neighbours, and roots just below a power of ten.
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 39n, max: 10n ** 40n - 1n }), fc.integer({ min: -41, max: 41 }), (k, shift) => {
        for (const c of [k * k - 1n, k * k, k * k + 1n, k * k + k, k * k + k + 1n]) {
          const x = new Decimal(`${c}e${shift}`);
          expectSame(squareRootOf(fromDecimal(x)), x.sqrt());
        }
      }),
      { numRuns: 500 },
    );
    for (const text of ['99999999999999999999999999999999999999990000000000000000000000000000000000000001', '9.9999999999999999999999999999999999999999', '0.99999999999999999999999999999999999999995', '1e-81', '1e81']) expectSame(squareRootOf(fromDecimal(new Decimal(text))), new Decimal(text).sqrt());
  });

  it('squareRootOf follows the configured precision', () => {
    const precision = Decimal.precision;
    try {
      for (const p of [1, 2, 7, 20, 41, 60]) {
        Decimal.set({ precision: p });
        fc.assert(
          fc.property(fc.bigInt({ min: 1n, max: 10n ** 70n }), fc.integer({ min: -30, max: 30 }), (n, shift) => {
            const x = new Decimal(`${n}e${shift}`);
            expectSame(squareRootOf(fromDecimal(x)), x.sqrt());
          }),
          { numRuns: 300 },
        );
      }
    } finally {
      Decimal.set({ precision });
    }
  });

  it('the feed\'s sigma formulas equal their decimal.js forms (sums of feed-like errors, lead-time terms)', () => {
    fc.assert(
      fc.property(fc.array(quantityArb, { minLength: 1, maxLength: 90 }), (es) => {
        const sum = es.reduce((a, b) => a.plus(b), new Decimal(0));
        const squares = es.reduce((a, b) => a.plus(b.times(b)), new Decimal(0));
        const slow = sigmaFromSums(es.length, sum, squares);
        const fast = sigmaFromSumsX(es.length, fromDecimal(sum), fromDecimal(squares));
        expectSame(fast, slow);
        const lead = new Decimal(es.length % 30);
        const term = sum.abs().times(es[0]!.abs());
        expectSame(sigmaLeadTimeDemandWithX(fromDecimal(lead), fast, fromDecimal(term)), sigmaLeadTimeDemandWith(lead, slow, term));
      }),
      { numRuns: 1500 },
    );
    // Whole-day lead times, as the desk records them.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 2000 }), (days) => {
        const s1 = days.reduce((a, b) => a + b, 0);
        const s2 = days.reduce((a, b) => a + b * b, 0);
        expectSame(sigmaFromSumsX(days.length, fromInteger(s1), fromInteger(s2)), sigmaFromSums(days.length, new Decimal(s1), new Decimal(s2)));
      }),
      { numRuns: 1500 },
    );
  });
});
