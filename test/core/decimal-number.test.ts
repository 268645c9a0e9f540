// toNumberExact gives exactly decimal.js's toNumber (the double Number(text) gives), without text.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import { decimalOfNumber, exactOfNumber, multipleOfTen, numberOfFixed, numberOfScaled, roundedAsToFixed, toNumberExact } from '../../src/core/decimal-number.js';
import { Fixed } from '../../src/core/fixed.js';
import { fromDecimal, same } from '../../src/costfeed/exact40.js';

const decimalText = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map((n) => (n / 100).toFixed(2)),
  fc.tuple(fc.integer({ min: -999_999, max: 999_999 }), fc.integer({ min: 0, max: 9 })).map(([n, e]) => (n / 10 ** e).toFixed(e)),
  fc.tuple(fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n }), fc.integer({ min: -30, max: 30 })).map(([n, e]) => `${n}e${e}`),
  fc.tuple(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.integer({ min: 0, max: 30 })).map(([n, e]) => new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)).toFixed()),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
  fc.constantFrom('0', '-0', '9007199254740991', '9007199254740992', '9007199254740993', '0.0000001', '123456789012345.67', '1e22', '1e23', '1.5e-17', '4.35e-30', '0.1', '0.3'),
);

describe('multipleOfTen', () => {
  it('says whether ten divides a safe integer, as BigInt remainder does', () => {
    const safe = fc.oneof(
      fc.maxSafeInteger(),
      fc.integer({ min: -1000, max: 1000 }),
      fc.tuple(fc.maxSafeInteger(), fc.integer({ min: 0, max: 9 })).map(([n, d]) => Math.trunc(n / 10) * 10 + Math.sign(n) * d),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 53 - 10, 2 ** 53 - 2, 2 ** 50, 2 ** 50 + 1, 2 ** 50 + 2, 9_007_199_254_740_990, 1e15, 1e15 + 1),
    );
    fc.assert(
      fc.property(safe, (x) => {
        expect(multipleOfTen(x)).toBe(BigInt(x) % 10n === 0n);
      }),
      { numRuns: 20_000 },
    );
  });
});

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

  it('is toNumber for long mantissas of every size and exponent (the double-double path), halfway cases included', () => {
    const long = fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 40n }), fc.integer({ min: -120, max: 120 }), fc.boolean()).map(([c, k, negative]) => new Decimal(`${negative ? '-' : ''}${c}e${k}`));
    fc.assert(
      fc.property(long, (x) => {
        expect(Object.is(toNumberExact(x), x.toNumber())).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    // Exactly halfway between two doubles, and a 40th digit either side of it.
    for (const text of ['9007199254740993', '9007199254740993.000000000000000000000001', '9007199254740992.999999999999999999999999', '1.00000000000000011102230246251565404236316680908203125', '1.000000000000000111022302462515654042', '1.000000000000000111022302462515654043']) {
      const x = new Decimal(text);
      expect(Object.is(toNumberExact(x), x.toNumber())).toBe(true);
    }
  });

  it('falls back for NaN and infinities', () => {
    for (const text of ['NaN', 'Infinity', '-Infinity']) expect(Object.is(toNumberExact(new Decimal(text)), new Decimal(text).toNumber())).toBe(true);
  });
});

describe('numberOfFixed', () => {
  it('is toNumber of the Fixed value for every value (safe-integer mantissas, long ones, sums past 2^53)', () => {
    fc.assert(
      fc.property(decimalText, decimalText, (a, b) => {
        const x = new Decimal(a);
        const y = new Decimal(b);
        if (!x.isFinite() || !y.isFinite()) return;
        const sum = Fixed.from(x).plus(Fixed.from(y));
        expect(Object.is(numberOfFixed(sum), x.plus(y).toNumber() || 0)).toBe(true);
        expect(Object.is(numberOfFixed(Fixed.from(x)), x.toNumber() || 0)).toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('numberOfScaled', () => {
  // The desk's hedge financing, kept as exact40's c x 10^e, is read as a double this way.
  const check = (c: bigint, k: number) => {
    const got = numberOfScaled(c, k);
    const expected = Number(`${c}e${k}`);
    if (got !== undefined) expect(Object.is(got, c === 0n ? 0 : expected)).toBe(true);
    return got;
  };

  it('is Number(text) of c x 10^k (correctly rounded) for 40-digit quotients and any exponent it takes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 41n), max: 10n ** 41n }), fc.integer({ min: -80, max: 30 }), (c, k) => {
        expect(check(c, k)).not.toBeUndefined();
      }),
      { numRuns: 20_000 },
    );
  });

  it('is the rounding of decimal.js quotients, ties and halfway cases included', () => {
    const small = fc.integer({ min: -10_000_000, max: 10_000_000 }).filter((n) => n !== 0);
    fc.assert(
      fc.property(small, small, fc.integer({ min: -12, max: 12 }), (a, b, shift) => {
        const x = new Decimal(a).dividedBy(b).times(new Decimal(10).pow(shift));
        const { c, e } = fromDecimal(x);
        expect(Object.is(numberOfScaled(c, e), x.toNumber())).toBe(true);
      }),
      { numRuns: 5_000 },
    );
    // Exactly halfway between two doubles (2^53 + 1, and 1 + 2^-53), and just off it either side.
    const half = 2n ** 53n + 1n;
    for (const c of [half, half * 10n ** 20n + 1n, half * 10n ** 20n - 1n]) check(c, c === half ? 0 : -20);
    const tiny = 5n ** 53n; // 2^-53 = tiny x 10^-53
    for (const c of [10n ** 53n + tiny, 10n ** 53n + tiny + 1n, 10n ** 53n + tiny - 1n, 10n ** 53n + 3n * tiny]) expect(check(c, -53)).not.toBeUndefined();
  });

  it('is exact at and beside the midpoints between two doubles, where the double-double margin cannot decide', () => {
    // x's exact binary value mant x 2^exp, and the midpoint to the next double up, (2 mant + 1) x 2^(exp - 1), in decimal.
    const bits = new BigUint64Array(1);
    const view = new Float64Array(bits.buffer);
    fc.assert(
      fc.property(fc.double({ min: 1e-40, max: 1e40, noNaN: true }), fc.integer({ min: 0, max: 12 }), (x, extra) => {
        view[0] = x;
        const raw = bits[0]!;
        const biased = Number(raw >> 52n);
        fc.pre(biased > 0);
        const mant = (raw & ((1n << 52n) - 1n)) | (1n << 52n);
        const exp = biased - 1075;
        const odd = 2n * mant + 1n;
        const [mid, k] = exp - 1 < 0 ? [odd * 5n ** BigInt(1 - exp), exp - 1] : [odd << BigInt(exp - 1), 0];
        // More digits below the midpoint, so a unit in the last place is a tiny step off it.
        const c = mid * 10n ** BigInt(extra);
        for (const delta of [-1n, 0n, 1n]) expect(check(c + delta, k - extra)).not.toBeUndefined();
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves tiny and huge exponents to the caller (undefined), never a wrong double', () => {
    for (const [c, k] of [[1n, -320], [7n, -400], [123n, 500], [1n, -1000]] as const) check(c, k);
    expect(numberOfScaled(0n, -5)).toBe(0);
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

describe('roundedAsToFixed', () => {
  const asToFixed = (x: number, places: number): number => Number(x.toFixed(places));
  const same = (x: number, places: number): void => {
    expect(Object.is(roundedAsToFixed(x, places), asToFixed(x, places)), `${x} to ${places} places`).toBe(true);
  };

  it('is Number(x.toFixed(places)) for any double', () => {
    fc.assert(
      fc.property(fc.double(), fc.integer({ min: 0, max: 15 }), (x, places) => same(x, places)),
      { numRuns: 20_000 },
    );
  });

  it('is Number(x.toFixed(places)) for quantities a rule decides (0 to 1e7 units, 6 places)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e7, max: 1e7, noNaN: true }), (x) => same(x, 6)),
      { numRuns: 20_000 },
    );
  });

  it('is Number(x.toFixed(places)) at and around the ties, where floating point and the decimal part ways', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: -4, max: 4 }), (n, places, ulps) => {
        // (n + 1/2) / 10^places, then a few doubles either side of it.
        let x = (n + 0.5) / 10 ** places;
        for (let i = 0; i < Math.abs(ulps); i += 1) x = ulps > 0 ? nextUp(x) : nextDown(x);
        same(x, places);
      }),
      { numRuns: 20_000 },
    );
    for (const x of [0.5, 1.5, 2.5, -0.5, -2.5, 1.0000005, 1.0000015, 0.0000005, 2.675, 1.005, 123456.1234565, -0, 0, 1e-9, -1e-9, 4.35, 8.345, 1e15, 4503599627370495.5, 9007199254740993, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN]) {
      for (const places of [0, 2, 6, 9, 15]) same(x, places);
    }
  });
});

/** The next double above / below x (finite x). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}
function nextDown(x: number): number {
  return -nextUp(-x);
}
