// The journal's Fixed columns (one packed float64 a value) and the direct path's balance check
// (lines summed in doubles while exact) against the plain values and decimal.js sums.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal.js';
import { Fixed } from '../../src/core/fixed.js';
import { ColumnarJournal } from '../../src/ledger/columnar-journal.js';
import { linesBalance } from '../../src/ledger/engine.js';

/** A Fixed's parts, as a column must give them back (not only its value: the same mantissa and places). */
const parts = (f: Fixed): string => `${f.m}|${f.e}|${f.big?.toString() ?? ''}`;

const MAX = Number.MAX_SAFE_INTEGER;
/** Mantissas near the packing limit (2^48) and the safe-integer limit, places up to 40, and values that only a Decimal holds. */
const anyFixed = fc.oneof(
  fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 8 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.integer({ min: -(2 ** 48) - 3, max: -(2 ** 48) + 3 }), fc.integer({ min: 0, max: 31 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.integer({ min: 2 ** 48 - 3, max: 2 ** 48 + 3 }), fc.integer({ min: 0, max: 31 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.maxSafeInteger(), fc.integer({ min: 0, max: 40 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 12 })).map(([n, e]) => Fixed.from(new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)))),
  fc.constantFrom(Fixed.ZERO, Fixed.of(0, 3), Fixed.of(-0, 2), Fixed.of(MAX, 0), Fixed.of(-MAX, 31), Fixed.of(1, 31), Fixed.of(-1, 32)),
);

describe('journal Fixed columns', () => {
  it('give back every value exactly as pushed (mantissa, places, big), and its negation for a credit', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyFixed, anyFixed, anyFixed), { minLength: 1, maxLength: 12 }), (values) => {
        const journal = new ColumnarJournal();
        for (const [a, b, c] of values) {
          const i = journal.beginEntry(0, 0, 'sale', i0(journal));
          journal.line('debit-side', a);
          journal.creditLine('credit-side', b);
          journal.endLines();
          journal.movement('product', 'x', a, b, c);
          journal.endMovements();
          journal.endEntry(i, {}, 'sale', 'x', b, c, undefined, undefined);
        }
        values.forEach(([a, b, c], i) => {
          const lines = journal.draftOf(i).lines.map((l) => (l.credit.isZero() ? l.debit : l.credit.negated()));
          expect(lines.map((l) => l.toFixed())).toEqual([a.toFixed(), b.negated().toFixed()]);
          expect(parts(journal.moveQtyOf(i))).toBe(parts(a));
          const move = journal.draftOf(i).movements[0]!;
          expect([parts(move.qty), parts(move.after), parts(move.value!)]).toEqual([parts(a), parts(b), parts(c)]);
          expect(parts(journal.actualQtyOf(i))).toBe(parts(b));
          expect(parts(journal.actualAmountOf(i))).toBe(parts(c));
        });
        // A truncation drops the values kept whole past it too; what is appended next reads back as pushed.
        journal.truncate(1);
        const i = journal.beginEntry(0, 0, 'sale', 99);
        journal.endLines();
        journal.endMovements();
        journal.endEntry(i, {}, 'sale', 'x', values[0]![2], values[0]![1], undefined, undefined);
        expect([parts(journal.actualQtyOf(1)), parts(journal.actualAmountOf(1))]).toEqual([parts(values[0]![2]), parts(values[0]![1])]);
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });
});

/** The event number of the next entry (entries posted without an id). */
function i0(journal: ColumnarJournal): number {
  return journal.size + 1;
}

/** Positive amounts: cents to large quantities, many places, the safe-integer edge, Decimals. */
const amount = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 6 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.integer({ min: MAX - 1000, max: MAX }), fc.integer({ min: 0, max: 20 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.integer({ min: 1, max: MAX }), fc.integer({ min: 0, max: 20 })).map(([m, e]) => Fixed.of(m, e)),
  fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.integer({ min: 0, max: 8 })).map(([n, e]) => Fixed.from(new Decimal(n.toString()).dividedBy(new Decimal(10).pow(e)))),
);

/** The decimal.js verdict: the sum of the debits equals the sum of the credits. */
function balancesInDecimal(amounts: readonly Fixed[], debit: readonly boolean[]): boolean {
  let sum = new Decimal(0);
  amounts.forEach((a, k) => (sum = debit[k] ? sum.plus(a.toDecimal()) : sum.minus(a.toDecimal())));
  return sum.isZero();
}

describe('linesBalance', () => {
  it('says what decimal.js sums say, for lines that balance by construction and for any lines', () => {
    const balancedLines = fc
      .tuple(fc.array(amount, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }))
      .map(([debits, split]) => {
        // The credits: the debits' total, split into the first debit and the rest (or whole).
        const total = debits.reduce((t, d) => t.plus(d.toDecimal()), new Decimal(0));
        const credits = split === 0 || debits.length === 1 ? [Fixed.from(total)] : [debits[0]!, Fixed.from(total.minus(debits[0]!.toDecimal()))];
        return { amounts: [...debits, ...credits], debit: [...debits.map(() => true), ...credits.map(() => false)] };
      });
    const anyLines = fc.array(fc.tuple(amount, fc.boolean()), { minLength: 1, maxLength: 6 }).map((lines) => ({ amounts: lines.map(([a]) => a), debit: lines.map(([, d]) => d) }));
    fc.assert(
      fc.property(fc.oneof(balancedLines, anyLines), ({ amounts, debit }) => {
        expect(linesBalance(amounts, debit, amounts.length)).toBe(balancesInDecimal(amounts, debit));
        // Only the first n lines count.
        expect(linesBalance([...amounts, Fixed.ONE], [...debit, true], amounts.length)).toBe(balancesInDecimal(amounts, debit));
      }),
      { numRuns: 1000, seed: 20261201 },
    );
  });

  it('is true for lines that balance only beyond 2^53 or beyond a Fixed, and false for lines a last unit apart', () => {
    const max = Fixed.of(MAX, 0);
    expect(linesBalance([max, max, Fixed.of(MAX - 5, 0), Fixed.of(5, 0), max], [true, true, false, false, false], 5)).toBe(true);
    expect(linesBalance([max, max, Fixed.of(MAX - 5, 0), Fixed.of(4, 0), max], [true, true, false, false, false], 5)).toBe(false);
    // MAX + 2 is 2^53 + 1, which a double rounds to 2^53: summed in doubles these would balance.
    expect(linesBalance([max, Fixed.of(2, 0), max, Fixed.ONE], [true, true, false, false], 4)).toBe(false);
    const tiny = Fixed.of(1, 20);
    expect(linesBalance([tiny, Fixed.ONE, Fixed.from(new Decimal('1.00000000000000000001'))], [true, true, false], 3)).toBe(true);
    expect(linesBalance([tiny, Fixed.ONE, Fixed.from(new Decimal('1.00000000000000000002'))], [true, true, false], 3)).toBe(false);
    expect(linesBalance([Fixed.of(3, 2), Fixed.of(1, 2), Fixed.of(4, 2)], [true, true, false], 3)).toBe(true);
    expect(linesBalance([Fixed.of(30, 2), Fixed.of(3, 1)], [true, false], 2)).toBe(true);
    expect(linesBalance([Fixed.of(1, 25), Fixed.of(1, 25)], [true, false], 2)).toBe(true);
    expect(linesBalance([Fixed.of(1, 25), Fixed.of(2, 25)], [true, false], 2)).toBe(false);
  });
});

describe('journal names', () => {
  it('read back the accounts, materials and products each entry wrote, whatever the entries of its type wrote before at the same places', () => {
    const name = fc.constantFrom('materials_in_process', 'finished_goods', 'a', 'b', 'x', 'NG-F25');
    const entry = fc.record({
      type: fc.constantFrom('purchase' as const, 'completion' as const, 'sale' as const),
      lines: fc.array(name, { maxLength: 10 }),
      moves: fc.array(name, { maxLength: 10 }),
      actual: name,
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 12 }), (entries) => {
        const journal = new ColumnarJournal();
        for (const e of entries) {
          const i = journal.beginEntry(0, 0, e.type, journal.size + 1);
          e.lines.forEach((account, k) => (k % 2 === 0 ? journal.line(account, Fixed.ONE) : journal.creditLine(account, Fixed.ONE)));
          journal.endLines();
          for (const id of e.moves) journal.movement('material', id, Fixed.ONE, Fixed.ONE, undefined);
          journal.endMovements();
          journal.endEntry(i, {}, e.type, e.actual, Fixed.ONE, Fixed.ONE, undefined, undefined);
        }
        entries.forEach((e, i) => {
          const draft = journal.draftOf(i);
          expect(draft.lines.map((l) => l.account)).toEqual(e.lines);
          expect(draft.movements.map((m) => m.id)).toEqual(e.moves);
          expect(journal.actualNameOf(i)).toBe(e.actual);
        });
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });
});
