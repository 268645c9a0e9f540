/**
 * The columnar journal's FixedColumn hands a recent row's pushed Fixed back (the same object)
 * instead of unpacking a new one: every read must still give the value written, whatever was
 * pushed, negated, truncated or appended before it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { Fixed } from '../../src/core/fixed.js';
import { FixedColumn } from '../../src/ledger/columnar-journal.js';

const fixedArb = fc.oneof(
  fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 4 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.maxSafeInteger(), fc.integer({ min: 0, max: 40 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 8 })).map(([c, e]) => Fixed.from(new Decimal(c.toString()).dividedBy(10 ** e))),
);

type Op = { op: 'push'; value: Fixed } | { op: 'neg'; value: Fixed } | { op: 'truncate'; n: number } | { op: 'append'; values: Fixed[]; from: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fixedArb.map((value) => ({ op: 'push' as const, value })) },
  { weight: 2, arbitrary: fixedArb.map((value) => ({ op: 'neg' as const, value })) },
  { weight: 1, arbitrary: fc.nat({ max: 120 }).map((n) => ({ op: 'truncate' as const, n })) },
  { weight: 1, arbitrary: fc.tuple(fc.array(fixedArb, { maxLength: 40 }), fc.nat({ max: 40 })).map(([values, from]) => ({ op: 'append' as const, values, from })) },
);

const same = (a: Fixed, b: Fixed): void => {
  expect(a.toFixed()).toBe(b.toFixed());
  expect(a.big === undefined).toBe(b.big === undefined);
  if (a.big === undefined) {
    expect(a.m).toBe(b.m === 0 ? 0 : b.m);
    expect(a.e).toBe(b.e);
  }
};

describe('FixedColumn', () => {
  it('reads back every value as written (recent rows as their own objects)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const column = new FixedColumn();
        const expected: Fixed[] = [];
        for (const o of ops) {
          if (o.op === 'push') {
            column.push(o.value);
            expected.push(o.value);
          } else if (o.op === 'neg') {
            column.pushNegated(o.value);
            expected.push(o.value.negated());
          } else if (o.op === 'truncate') {
            column.truncate(o.n);
            expected.length = Math.min(expected.length, o.n);
          } else if (o.op === 'append') {
            const other = new FixedColumn();
            for (const v of o.values) other.push(v);
            const from = Math.min(o.from, o.values.length);
            column.appendFrom(other, from, o.values.length - from);
            expected.push(...o.values.slice(from));
          }
          expect(column.length).toBe(expected.length);
          for (let i = 0; i < expected.length; i += 1) same(column.get(i), expected[i]!);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hands a recent row its own object, and an older one an equal value', () => {
    const column = new FixedColumn();
    const values = Array.from({ length: 100 }, (_, i) => Fixed.of(1000 + i, 3));
    for (const v of values) column.push(v);
    expect(column.get(99)).toBe(values[99]);
    expect(column.get(80)).toBe(values[80]);
    expect(column.get(10)).not.toBe(values[10]);
    expect(column.get(10).eq(values[10]!)).toBe(true);
  });
});
