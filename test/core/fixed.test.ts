// Fixed (scaled integers with an exact Decimal fallback) gives decimal.js's results for every
// operation the ledger uses, on values that fit a safe integer and on values that do not.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import { DecimalCache, Fixed } from '../../src/core/fixed.js';

const decimalText = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map((n) => (n / 100).toFixed(2)),
  fc.tuple(fc.integer({ min: -999_999, max: 999_999 }), fc.integer({ min: 0, max: 9 })).map(([n, e]) => (n / 10 ** e).toFixed(e)),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((n) => n.toString()),
  fc.tuple(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.integer({ min: 1, max: 12 })).map(([n, e]) => new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)).toFixed()),
  fc.constantFrom('0', '-0', '9007199254740991', '9007199254740992', '0.0000001', '123456789012345.67'),
);

const both = (text: string): [Decimal, Fixed] => [new Decimal(text), Fixed.parse(text)];

describe('Fixed against decimal.js', () => {
  it('builds the same Decimal as decimal.js parsing its text (words, exponent, sign), without text', () => {
    const scaled = fc.tuple(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 15 }));
    fc.assert(
      fc.property(scaled, ([raw, places, drop]) => {
        // Trailing zeros in the mantissa too (e.g. 1500 at 2 places).
        const m = Math.trunc(raw / 10 ** drop) * 10 ** Math.min(drop, 3);
        if (!Number.isSafeInteger(m)) return;
        const digits = Math.abs(m).toString().padStart(places + 1, '0');
        const text = `${m < 0 ? '-' : ''}${places === 0 ? digits : `${digits.slice(0, digits.length - places)}.${digits.slice(digits.length - places)}`}`;
        const want = new Decimal(text);
        const got = Fixed.of(m, places).toDecimal() as unknown as { s: number; e: number; d: number[] };
        const expected = want as unknown as { s: number; e: number; d: number[] };
        expect(Object.keys(got)).toEqual(Object.keys(expected));
        expect([got.s, got.e, [...got.d]]).toEqual(m === 0 ? [1, 0, [0]] : [expected.s, expected.e, [...expected.d]]);
        expect((got as unknown as Decimal).toFixed()).toBe(want.toFixed());
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips text and compares', () => {
    fc.assert(
      fc.property(decimalText, decimalText, (x, y) => {
        const [a, fa] = both(x);
        const [b, fb] = both(y);
        expect(fa.toFixed()).toBe(a.toFixed());
        expect(fa.toDecimal().eq(a)).toBe(true);
        expect(fa.cmp(fb)).toBe(a.comparedTo(b));
        expect(fa.isZero()).toBe(a.isZero());
        expect(fa.isNegative()).toBe(a.lt(0));
      }),
      { numRuns: 2000 },
    );
  });

  it('plus, minus, times, negated, round and mulDivRound', () => {
    fc.assert(
      fc.property(decimalText, decimalText, decimalText, fc.integer({ min: 0, max: 4 }), (x, y, z, places) => {
        const [a, fa] = both(x);
        const [b, fb] = both(y);
        const [c, fc_] = both(z);
        expect(fa.plus(fb).toFixed()).toBe(a.plus(b).toFixed());
        expect(fa.minus(fb).toFixed()).toBe(a.minus(b).toFixed());
        expect(fa.times(fb).toFixed()).toBe(a.times(b).toFixed());
        expect(fa.negated().toFixed()).toBe(a.negated().toFixed());
        expect(fa.times(fb).round(places).toFixed()).toBe(a.times(b).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN).toFixed());
        if (!c.isZero()) expect(fa.mulDivRound(fb, fc_, places).toFixed()).toBe(a.times(b).dividedBy(c).toDecimalPlaces(places, Decimal.ROUND_HALF_EVEN).toFixed());
      }),
      { numRuns: 3000 },
    );
  });

  it('rounds ties to even, both signs', () => {
    for (const [text, places, expected] of [['2.345', 2, '2.34'], ['2.355', 2, '2.36'], ['-2.345', 2, '-2.34'], ['-2.355', 2, '-2.36'], ['0.5', 0, '0'], ['1.5', 0, '2'], ['-0.5', 0, '0']] as const) {
      expect(Fixed.parse(text).round(places).toFixed()).toBe(expected);
    }
  });

  it('falls back to an exact Decimal beyond 2^53 and comes back when results fit', () => {
    const big = Fixed.parse('90071992547409930');
    expect(big.big).toBeDefined();
    expect(big.times(Fixed.parse('3')).toFixed()).toBe('270215977642229790');
    const back = big.minus(Fixed.parse('90071992547409929'));
    expect(back.big).toBeUndefined();
    expect(back.toFixed()).toBe('1');
  });
});

describe('DecimalCache', () => {
  it('gives equal values one Decimal, the same words as toDecimal, whatever their places', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const cache = new DecimalCache();
        const value = Fixed.parse(text);
        const shared = cache.of(value);
        expect([shared.d, shared.e, shared.s]).toEqual([value.toDecimal().d, value.toDecimal().e, value.toDecimal().s]);
        if (value.big !== undefined) return; // a value beyond a safe integer keeps its own Decimal
        expect(cache.of(Fixed.parse(text))).toBe(shared);
        if (Number.isSafeInteger(value.m * 100)) expect(cache.ofScaled(value.m * 100, value.e + 2)).toBe(shared);
      }),
    );
  });

  it('forgets every value once it holds its limit, and still gives equal values', () => {
    const cache = new DecimalCache(2);
    const one = cache.ofScaled(1, 0);
    cache.ofScaled(2, 0);
    expect(cache.ofScaled(10, 1)).toBe(one);
    const third = cache.ofScaled(3, 0);
    expect(cache.ofScaled(3, 0)).toBe(third);
    const again = cache.ofScaled(1, 0);
    expect(again).not.toBe(one);
    expect(again.eq(one)).toBe(true);
  });
});
