import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, floorToStep } from '../../src/core/decimal.js';
import { roundLimitPrice, sizeOrder, wantedQuantity } from '../../src/pipeline/sizing.js';
import { D, RULES, intent } from './fixtures.js';

const size = (overrides: Parameters<typeof intent>[0], position = '0', price = '3') =>
  sizeOrder({ intent: intent(overrides), position: D(position), rules: RULES, price: D(price) });

describe('sizing', () => {
  it('rounds a quantity down to the lot step', () => {
    const s = size({ qty: D('12.37') });
    expect(s.kind).toBe('sized');
    expect(s.qty.toString()).toBe('12.3');
    expect(s.kind === 'sized' && s.notional.toString()).toBe('36.9');
  });

  it('sizes a target as the distance from the position, in the intent direction', () => {
    expect(size({ qty: undefined, targetQty: D('50') }, '20.05').qty.toString()).toBe('29.9');
    expect(size({ qty: undefined, targetQty: D('-10'), side: 'sell' }, '5').qty.toString()).toBe('15');
    const done = size({ qty: undefined, targetQty: D('50') }, '60');
    expect([done.kind, done.kind === 'skipped' && done.reason]).toEqual(['skipped', 'nothing to do']);
  });

  it('records a skip when the quantity rounds to zero', () => {
    const s = size({ qty: D('0.09') });
    expect(s).toMatchObject({ kind: 'skipped', reason: 'rounds to zero' });
    expect(s.kind === 'skipped' && s.detail).toMatch(/0\.09 rounds down to 0 at lot step 0\.1/);
  });

  it('records a skip below the minimum quantity and below the minimum notional', () => {
    expect(size({ qty: D('0.95') })).toMatchObject({ kind: 'skipped', reason: 'below min qty' });
    const s = size({ qty: D('3') }, '0', '3.3');
    expect(s).toMatchObject({ kind: 'skipped', reason: 'below min notional' });
    expect(s.kind === 'skipped' && s.detail).toMatch(/9\.9 is below the minimum notional 10/);
    expect(size({ qty: D('3.1') }, '0', '3.3').kind).toBe('sized');
  });

  it('never sizes above the need and always to a whole lot (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (thousandths) => {
        const wanted = D(thousandths).dividedBy(1000);
        const s = sizeOrder({ intent: intent({ qty: wanted }), position: D(0), rules: RULES, price: D('100') });
        expect(s.qty.lessThanOrEqualTo(wanted)).toBe(true);
        expect(s.qty.modulo(RULES.lotStep).isZero()).toBe(true);
        expect(wanted.minus(s.qty).lessThan(RULES.lotStep)).toBe(true);
        if (s.kind === 'sized') expect(s.qty.greaterThanOrEqualTo(RULES.minQty)).toBe(true);
      }),
    );
  });

  it('rounds to a whole-number lot step exactly as floorToStep does: the same digits, exponent and sign (property)', () => {
    const same = (a: Decimal, b: Decimal) => expect([a.s, a.e, a.d]).toEqual([b.s, b.e, b.d]);
    fc.assert(
      fc.property(
        fc.constantFrom('2', '25', '1000', '2500', '10000', '1'),
        fc.bigInt({ min: 1n, max: 10n ** 18n }),
        fc.integer({ min: -3, max: 16 }),
        (lot, units, places) => {
          const wanted = new Decimal(units.toString()).times(new Decimal(10).pow(-places));
          const rules = { ...RULES, lotStep: D(lot), minQty: D(0), minNotional: D(0) };
          const s = sizeOrder({ intent: intent({ qty: wanted }), position: D(0), rules, price: D('3') });
          same(s.qty, floorToStep(wanted, rules.lotStep));
        },
      ),
    );
  });

  it('throws for an intent without exactly one of qty and targetQty, or a non-positive qty', () => {
    expect(() => wantedQuantity(intent({ qty: undefined }), D(0))).toThrow(/exactly one of qty or targetQty/);
    expect(() => wantedQuantity(intent({ targetQty: D(1) }), D(0))).toThrow(/exactly one/);
    expect(() => wantedQuantity(intent({ qty: D(0) }), D(0))).toThrow(/must be greater than zero/);
  });

  it('rounds limit prices to the tick in the trader favour', () => {
    expect(roundLimitPrice(D('3.456'), 'buy', D('0.01')).toString()).toBe('3.45');
    expect(roundLimitPrice(D('3.451'), 'sell', D('0.01')).toString()).toBe('3.46');
    expect(roundLimitPrice(D('3.45'), 'sell', D('0.01')).toString()).toBe('3.45');
  });
});
