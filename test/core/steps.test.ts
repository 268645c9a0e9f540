import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, floorToStep, isMultipleOf } from '../../src/core/decimal.js';

/** What a lot step means: value / step, floored, times step (the division the fast paths avoid). */
const floorByDivision = (value: Decimal, step: Decimal): Decimal => value.dividedBy(step).floor().times(step);

// The steps markets use (powers of ten, whole numbers) take the fast paths; 0.25, 0.5 and 3e-3 the Decimal forms.
const STEPS = ['1', '25', '1000', '2500', '10000', '0.01', '0.001', '0.0001', '0.000001', '0.25', '0.5', '0.003', '10'].map((s) => new Decimal(s));

/** Same digits, exponent and sign (so the same text and JSON, -0 included). */
function sameDecimal(a: Decimal, b: Decimal): boolean {
  const x = a as unknown as { d: number[] | null; e: number; s: number };
  const y = b as unknown as { d: number[] | null; e: number; s: number };
  return x.s === y.s && x.e === y.e && JSON.stringify(x.d) === JSON.stringify(y.d);
}

/** A decimal of up to 17 digits with up to 14 places, either sign, plus exact multiples of the steps. */
const value = fc.oneof(
  fc.tuple(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.integer({ min: 0, max: 14 })).map(([digits, places]) => new Decimal(`${digits}e-${places}`)),
  fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...STEPS)).map(([n, step]) => step.times(n)),
  fc.constantFrom(new Decimal('-0'), new Decimal(0), new Decimal('9007199254740993'), new Decimal('1e30'), new Decimal('0.1234567890123456789012345678901234567891')),
);

describe('lot and tick steps without division', () => {
  it('isMultipleOf is value.modulo(step).isZero()', () => {
    fc.assert(
      fc.property(value, fc.constantFrom(...STEPS), (v, step) => {
        expect(isMultipleOf(v, step)).toBe(v.modulo(step).isZero());
      }),
      { numRuns: 20_000 },
    );
  });

  it('floorToStep is value / step floored times step, the same Decimal', () => {
    fc.assert(
      fc.property(value, fc.constantFrom(...STEPS), (v, step) => {
        const expected = floorByDivision(v, step);
        const actual = floorToStep(v, step);
        expect(sameDecimal(actual, expected), `${v.toString()} at ${step.toString()}: ${actual.toString()} against ${expected.toString()}`).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('rounds down to the lot and tests lots and ticks as a venue does', () => {
    expect(floorToStep(new Decimal('1249.999'), new Decimal('25')).toString()).toBe('1225');
    expect(floorToStep(new Decimal('12.3456789'), new Decimal('0.001')).toString()).toBe('12.345');
    expect(floorToStep(new Decimal('0.0001'), new Decimal('1')).toString()).toBe('0');
    expect(isMultipleOf(new Decimal('2500'), new Decimal('25'))).toBe(true);
    expect(isMultipleOf(new Decimal('2510'), new Decimal('25'))).toBe(false);
    expect(isMultipleOf(new Decimal('3.145'), new Decimal('0.01'))).toBe(false);
    expect(isMultipleOf(new Decimal('3.14'), new Decimal('0.01'))).toBe(true);
  });
});
