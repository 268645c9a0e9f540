import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { Fixed } from '../../src/core/fixed.js';
import { CarryClock, CarryLog } from '../../src/costfeed/carry-clock.js';
import { FixedFieldWindow, TimeWindow } from '../../src/costfeed/time-window.js';

/** A small deterministic generator (the same cases every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('FixedFieldWindow', () => {
  it.each([7, 8, 9])('gives the same sums, value and representation, as a TimeWindow over one array per item (negated items, late items, values held as Decimals; seed %i)', (seed) => {
    const random = lcg(seed);
    const value = (): Fixed => {
      const r = random();
      if (r < 0.1) return Fixed.from(new Decimal(`${Math.floor(random() * 1e6)}123456789012345678901234.5`)); // does not fit: a Decimal
      if (r < 0.2) return Fixed.of(Math.floor(random() * 2 ** 52), Math.floor(random() * 4)); // sums that overflow
      if (r < 0.25) return Fixed.of(Math.floor((random() - 0.5) * 2 ** 40), Math.floor(random() * 30)); // places that cannot be aligned (beyond 10^22) or overflow when aligned
      return Fixed.of(Math.floor((random() - 0.3) * 100000), Math.floor(random() * 5));
    };
    const width = 4;
    const arrays = new TimeWindow<Fixed>(width, Fixed.ZERO);
    const fields = new FixedFieldWindow(width);
    let now = 0;
    for (let step = 0; step < 3000; step += 1) {
      const items = Math.floor(random() * 3);
      for (let i = 0; i < items; i += 1) {
        // Most items at the present, some late (inside or behind the window).
        const at = random() < 0.85 ? now + 1 : now - Math.floor(random() * 40);
        const k = Math.floor(random() * width);
        const negated = random() < 0.4;
        const v = random() < 0.05 ? Fixed.ZERO : value();
        const item = new Array<Fixed>(width).fill(Fixed.ZERO);
        item[k] = negated ? v.negated() : v;
        arrays.insert(at, item);
        fields.insert(at, k, v, negated);
      }
      now += 1;
      arrays.moveTo(now - 30, now);
      fields.moveTo(now - 30, now);
      for (let k = 0; k < width; k += 1) {
        const a = arrays.sum(k);
        const b = fields.sum(k);
        expect(b.big === undefined ? `${b.m}e-${b.e}` : b.big.toString()).toBe(a.big === undefined ? `${a.m}e-${a.e}` : a.big.toString());
      }
    }
  });
});

describe('CarryLog', () => {
  it('sums dq x C(at) over the first n movements as the Decimals do, quantities that fit a scaled integer or not', () => {
    const day = 86_400_000;
    const clock = new CarryClock([0, 40 * day, 90 * day], (t) => new Decimal(t < 40 * day ? '0.013' : t < 90 * day ? '0.0271' : '0.5'));
    const log = new CarryLog(clock);
    const random = lcg(11);
    const moves: { qty: Fixed; at: number }[] = [];
    for (let i = 0; i < 300; i += 1) {
      const r = random();
      const qty =
        r < 0.1
          ? Fixed.from(new Decimal(`-${Math.floor(random() * 1e6)}123456789012345678901.25`))
          : Fixed.of(Math.floor((random() - 0.5) * 2 ** 40), Math.floor(random() * 6));
      const at = Math.floor(random() * 120 * day);
      log.add(qty, at);
      moves.push({ qty, at });
    }
    expect(log.length).toBe(300);
    for (const n of [0, 1, 7, 150, 299, 300]) {
      let expected = new Decimal(0);
      for (const move of moves.slice(0, n)) expected = expected.plus(move.qty.toDecimal().times(clock.at(move.at)));
      expect(log.baseAt(n).toString()).toBe(expected.toString());
    }
  });
});
