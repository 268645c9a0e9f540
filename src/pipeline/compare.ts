/**
 * Comparisons of two Decimals without the copy decimal.js makes of its argument: its
 * `comparedTo` starts with `new Decimal(y)` (an object and a digit array per comparison, and
 * the order path compares a dozen times per order). `compare` is that method's code on the
 * argument itself: the copy has the argument's sign, exponent and digits, except for an
 * exponent beyond the constructor's `maxE`/`minE` (the copy would be Infinity or zero), which
 * goes to `comparedTo` itself, as do NaN and the infinities. `lt`, `lte`, `gt`, `gte` and `eq`
 * are decimal.js's `lessThan`, ... on that result (false whenever it is NaN). The tests
 * compare them with decimal.js on random pairs.
 */
import type { Decimal } from '../core/decimal.js';

type Limits = { readonly maxE: number; readonly minE: number };

/** -1, 0 or 1 as `x.comparedTo(y)` (NaN when either is NaN). */
export function compare(x: Decimal, y: Decimal): number {
  const xd = x.d;
  const yd = y.d;
  const limits = x.constructor as unknown as Limits;
  if (!xd || !yd || y.e > limits.maxE || y.e < limits.minE) return x.comparedTo(y);
  const xs = x.s;
  const ys = y.s;
  // Either zero?
  if (!xd[0] || !yd[0]) return xd[0] ? xs : yd[0] ? -ys : 0;
  // Signs differ?
  if (xs !== ys) return xs;
  const negative = xs < 0;
  // Compare exponents.
  if (x.e !== y.e) return x.e > y.e !== negative ? 1 : -1;
  const xl = xd.length;
  const yl = yd.length;
  // Compare digit by digit, then lengths.
  for (let i = 0, j = xl < yl ? xl : yl; i < j; i += 1) {
    if (xd[i] !== yd[i]) return xd[i]! > yd[i]! !== negative ? 1 : -1;
  }
  return xl === yl ? 0 : xl > yl !== negative ? 1 : -1;
}

/** `x.lessThan(y)`. */
export function lt(x: Decimal, y: Decimal): boolean {
  return compare(x, y) < 0;
}

/** `x.lessThanOrEqualTo(y)`. */
export function lte(x: Decimal, y: Decimal): boolean {
  const k = compare(x, y);
  return k < 0 || k === 0;
}

/** `x.greaterThan(y)`. */
export function gt(x: Decimal, y: Decimal): boolean {
  return compare(x, y) > 0;
}

/** `x.greaterThanOrEqualTo(y)`. */
export function gte(x: Decimal, y: Decimal): boolean {
  const k = compare(x, y);
  return k === 1 || k === 0;
}

/** `x.equals(y)`. */
export function eq(x: Decimal, y: Decimal): boolean {
  return compare(x, y) === 0;
}

/**
 * `a.plus(b)` when `a` is a zero that adds nothing: `b` itself, without the copy decimal.js
 * makes (its plus copies `b` and rounds the copy to 40 significant digits, which leaves a
 * finite, non-zero, positive `b` of at most 35 digits, five words, as it was). Any other pair
 * goes to `plus`. A day's first order adds its notional to a zero total; the risk check and the
 * order store each made that sum once per order.
 */
export function plusToZero(a: Decimal, b: Decimal): Decimal {
  const ad = a.d;
  const bd = b.d;
  // 35 digits fit any precision of at least 35 (procura configures 40; a lower one would round b).
  if (ad && ad[0] === 0 && a.s === 1 && bd && bd[0] !== 0 && b.s === 1 && bd.length <= 5 && (b.constructor as unknown as { precision: number }).precision >= 35) return b;
  return a.plus(b);
}
