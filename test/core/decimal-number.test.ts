// toNumberExact gives exactly decimal.js's toNumber (the double Number(text) gives), without text.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import { decimalOfNumber, exactOfNumber, toNumberExact } from '../../src/core/decimal-number.js';
import { fromDecimal, same } from '../../src/costfeed/exact40.js';

const decimalText = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map((n) => (n / 100).toFixed(2)),
  fc.tuple(fc.integer({ min: -999_999, max: 999_999 }), fc.integer({ min: 0, max: 9 })).map(([n, e]) => (n / 10 ** e).toFixed(e)),
  fc.tuple(fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n }), fc.integer({ min: -30, max: 30 })).map(([n, e]) => `${n}e${e}`),
  fc.tuple(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.integer({ min: 0, max: 30 })).map(([n, e]) => new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)).toFixed()),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
  fc.constantFrom('0', '-0', '9007199254740991', '9007199254740992', '9007199254740993', '0.0000001', '123456789012345.67', '1e22', '1e23', '1.5e-17', '4.35e-30', '0.1', '0.3'),
);

describe('toNumberExact', () => {
  it('is decimal.js toNumber for every value (sign of zero included)', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const x = new Decimal(text);
        expect(Object.is(toNumberExact(x), x.toNumber())).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('is toNumber on results of arithmetic (quotients at 40 digits, products, sums)', () => {
    const small = fc.integer({ min: -10_000_000, max: 10_000_000 }).map((n) => new Decimal(n).dividedBy(1000));
    fc.assert(
      fc.property(small, small, small, (a, b, c) => {
        for (const x of [a.times(b), a.plus(c), b.isZero() ? a : a.dividedBy(b), a.times(b).minus(c).times(c)]) {
          expect(Object.is(toNumberExact(x), x.toNumber())).toBe(true);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('falls back for NaN and infinities', () => {
    for (const text of ['NaN', 'Infinity', '-Infinity']) expect(Object.is(toNumberExact(new Decimal(text)), new Decimal(text).toNumber())).toBe(true);
  });
});

describe('a double through its shortest text', () => {
  // The desk's strip contract prices with a factor of 1 rely on this: numberOf(new Decimal(String(q))) is q.
  it('reads back as the same double from a Decimal of String(q), for every finite q but -0', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (q) => {
        fc.pre(!Object.is(q, -0));
        const d = new Decimal(String(q));
        expect(Object.is(d.toNumber(), q)).toBe(true);
        expect(Object.is(toNumberExact(d), q)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('decimalOfNumber', () => {
  const same = (x: number) => {
    const expected = new Decimal(String(x));
    const got = decimalOfNumber(Decimal, x);
    expect({ s: got.s, e: got.e, d: got.d }).toEqual({ s: expected.s, e: expected.e, d: expected.d });
    expect(Object.keys(got)).toEqual(Object.keys(expected));
    expect(got.equals(expected) || (got.isNaN() && expected.isNaN())).toBe(true);
  };

  it('is new Decimal(String(x)) word for word (prices, quotients, any double)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true }),
          fc.integer({ min: -10_000_000_000, max: 10_000_000_000 }).map((n) => n / 100),
          fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 999_999 })).map(([a, b]) => a / b),
          fc.tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 25 })).map(([n, k]) => n / 10 ** k),
          fc.tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 22 })).map(([n, k]) => n * 10 ** k),
        ),
        same,
      ),
      { numRuns: 20_000 },
    );
  });

  it('covers the edges: zeros, word boundaries, exponent notation, NaN and infinities', () => {
    for (const x of [0, -0, 1, -1, 10, 1e6, 1e7, 1234567, 12345678, 0.1, 0.0000001, 1e-7, 1.5e-7, 1e21, 1e20, 123456789012345.67, 9007199254740993, -0.05, 100.5, 1200, Number.MIN_VALUE, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) same(x);
  });
});

describe('exactOfNumber', () => {
  it('is the exact value of new Decimal(String(x)) (exact40 form) for every finite double', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer({ min: -10_000_000_000, max: 10_000_000_000 }).map((n) => n / 100),
          fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 999_999 })).map(([a, b]) => a / b),
          fc.tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 25 })).map(([n, k]) => n / 10 ** k),
        ),
        (x) => {
          const got = exactOfNumber(x)!;
          const expected = fromDecimal(new Decimal(String(x)));
          expect(same(got, expected)).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
    for (const x of [0, -0, 1e21, 1.5e-7, 123456789012345.67, Number.MAX_VALUE, Number.MIN_VALUE, -0.05]) expect(same(exactOfNumber(x)!, fromDecimal(new Decimal(String(x))))).toBe(true);
    expect(exactOfNumber(Number.NaN)).toBeUndefined();
    expect(exactOfNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});
