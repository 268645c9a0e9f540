/**
 * Running sums over a trailing time window, for as-of queries that move forward in time.
 * Items are kept sorted by their time; the window is (from, to]. Moving the window forward
 * adds and subtracts only the items that cross its edges, so a 30-year daily run costs
 * O(items) in total, not O(items x days). An item inserted late (a figure known after newer
 * ones) lands in its place by time and is counted at once if it falls inside the window.
 */
import { ZERO, type Decimal } from '../core/decimal.js';
import { Fixed } from '../core/fixed.js';
import type { EpochMs } from '../core/time.js';

/** The exact numbers a window sums: Decimal, or Fixed (core/fixed.ts) where the values are scaled integers. */
export interface Summable<N> {
  plus(o: N): N;
  minus(o: N): N;
  isZero(): boolean;
}

/**
 * What a window keeps its sums in. It moves to the next sums by an item's values, field by
 * field (a zero value leaves its field as it was): the same object changed in place, or
 * another one (sums that are shared and never change, see cost-feed.ts's SharedSums).
 */
export interface WindowSums<N> {
  /** Sum of field `k`. */
  sum(k: number): N;
  plusItem(values: readonly N[]): WindowSums<N>;
  minusItem(values: readonly N[]): WindowSums<N>;
}

/** Sums kept in one array and changed in place (the window's own); TimeWindow makes one only from a Summable zero, so every value here is Summable. */
class ArraySums<N> implements WindowSums<N> {
  readonly #sums: (N & Summable<N>)[];
  constructor(
    readonly width: number,
    zero: N & Summable<N>,
  ) {
    this.#sums = new Array<N & Summable<N>>(width).fill(zero);
  }
  sum(k: number): N {
    return this.#sums[k]!;
  }
  // A zero field is skipped: most items set one field of several, and adding an exact zero to
  // an exact sum leaves its value (and so every figure) as it was.
  plusItem(values: readonly N[]): this {
    const sums = this.#sums;
    for (let k = 0; k < this.width; k += 1) {
      const value = values[k] as N & Summable<N>;
      if (!value.isZero()) sums[k] = sums[k]!.plus(value) as N & Summable<N>;
    }
    return this;
  }
  minusItem(values: readonly N[]): this {
    const sums = this.#sums;
    for (let k = 0; k < this.width; k += 1) {
      const value = values[k] as N & Summable<N>;
      if (!value.isZero()) sums[k] = sums[k]!.minus(value) as N & Summable<N>;
    }
    return this;
  }
}

/**
 * Items behind a window are let go once there are more than this many: each batch costs a copy
 * of the items still kept (a trailing window's, about a hundred for the cost feed's), and an item
 * kept for thousands of days (the batch was 4096) outlived the young generation, to be copied
 * twice by the scavenger with what it holds (a backflush's three exact values).
 */
const FORGET_BATCH = 128;

/** Where an item at `at` goes among `times` (ascending): after every item at or before it, so the end when none is later. */
function placeOf(times: readonly EpochMs[], at: EpochMs): number {
  const n = times.length;
  if (n === 0 || times[n - 1]! <= at) return n;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isWindowSums<N>(zero: N | WindowSums<N>): zero is WindowSums<N> {
  return typeof (zero as Partial<WindowSums<N>>).plusItem === 'function';
}

export class TimeWindow<N = Decimal> {
  readonly #at: EpochMs[] = [];
  readonly #values: (readonly N[])[] = [];
  #sums: WindowSums<N>;
  /** Items before `#lo` are at or before `from`; items in [#lo, #hi) are inside the window. */
  #lo = 0;
  #hi = 0;
  #from = -Infinity;
  #to = -Infinity;

  /** `zero` starts every field's sum (a Summable value); or the sums to start from (shared sums of any values, see WindowSums). */
  constructor(
    readonly width: number,
    zero: (N & Summable<N>) | WindowSums<N> = ZERO as unknown as N & Summable<N>,
  ) {
    this.#sums = isWindowSums(zero) ? zero : new ArraySums(width, zero);
  }

  /** Sum of field `k` over the items inside the window. */
  sum(k: number): N {
    return this.#sums.sum(k);
  }

  /** The sums over the items inside the window, as they stand (an ArraySums changes as the window moves). */
  get sums(): WindowSums<N> {
    return this.#sums;
  }

  /** Adds an item at time `at` with one value per field; the window keeps `values` and only reads it (other windows may hold the same array; nobody may change it). */
  insert(at: EpochMs, values: readonly N[]): void {
    const n = this.#at.length;
    const position = placeOf(this.#at, at);
    if (position === n) {
      // The usual case (items arrive in time order): an append, not a splice.
      this.#at.push(at);
      this.#values.push(values);
    } else {
      this.#at.splice(position, 0, at);
      this.#values.splice(position, 0, values);
    }
    if (at <= this.#from) {
      this.#lo += 1;
      this.#hi += 1;
    } else if (at <= this.#to) {
      this.#hi += 1;
      this.#sums = this.#sums.plusItem(values);
    }
  }

  /** Moves the window to (from, to]. Both bounds must not decrease (callers rebuild to go back). */
  moveTo(from: EpochMs, to: EpochMs): void {
    const at = this.#at;
    const values = this.#values;
    const n = at.length;
    let sums = this.#sums;
    let lo = this.#lo;
    let hi = this.#hi;
    while (lo < n && at[lo]! <= from) {
      if (lo < hi) sums = sums.minusItem(values[lo]!);
      lo += 1;
    }
    if (hi < lo) hi = lo;
    while (hi < n && at[hi]! <= to) {
      sums = sums.plusItem(values[hi]!);
      hi += 1;
    }
    this.#sums = sums;
    this.#from = from;
    this.#to = to;
    // Forget what has left the window for good, in batches (keeps memory flat over long runs).
    if (lo > FORGET_BATCH) {
      at.splice(0, lo);
      values.splice(0, lo);
      hi -= lo;
      lo = 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }
}

/**
 * A TimeWindow of Fixed values whose items each set one field (a purchase's quantity and amount
 * are two items at one time), kept in flat lists instead of an array per item: the cost feed's
 * window holds an item for every backflush and purchase while it is in the window (90 days by
 * default), so each item's array and negated quantity outlived the young generation. A value
 * is kept as its scaled integer and places (`m` and `e`, in number arrays), not as the Fixed the
 * journal handed over (made fresh for each read, it lived as long as its item and was copied
 * twice by the scavenger), and made again as a Fixed when it is summed; a value that does not
 * fit a scaled integer (`big`) is kept whole. An item may be negated: it adds `-value` to its field, summed as `minus(value)`,
 * which is what Fixed's plus of the negated value gives (fixed.ts), and taken out as
 * `plus(value)` (`minus` of the negated value; for a value held as a Decimal, done as written,
 * since decimal.js rounds a negation to the precision). Each field sees the same values in the
 * same order as a TimeWindow over the items' arrays, so every sum is the same.
 */
export class FixedFieldWindow {
  readonly #at: EpochMs[] = [];
  /** The item's field k, or ~k (negative) when it adds -value. */
  readonly #code: number[] = [];
  readonly #m: number[] = [];
  readonly #e: number[] = [];
  /** The value itself where it has `big` (undefined for the others). */
  readonly #big: (Fixed | undefined)[] = [];
  readonly #sums: Fixed[];
  #lo = 0;
  #hi = 0;
  #from = -Infinity;
  #to = -Infinity;

  constructor(readonly width: number) {
    this.#sums = new Array<Fixed>(width).fill(Fixed.ZERO);
  }

  /** Sum of field `k` over the items inside the window. */
  sum(k: number): Fixed {
    return this.#sums[k]!;
  }

  /** Adds `value` (or -value, `negated`) to field `k` at time `at`; the window keeps `value`. */
  insert(at: EpochMs, k: number, value: Fixed, negated = false): void {
    if (value.isZero()) return; // adds nothing to any sum, now or later
    const code = negated ? ~k : k;
    const times = this.#at;
    const n = times.length;
    const position = placeOf(times, at);
    const big = value.big === undefined ? undefined : value;
    if (position === n) {
      times.push(at);
      this.#code.push(code);
      this.#m.push(value.m);
      this.#e.push(value.e);
      this.#big.push(big);
    } else {
      times.splice(position, 0, at);
      this.#code.splice(position, 0, code);
      this.#m.splice(position, 0, value.m);
      this.#e.splice(position, 0, value.e);
      this.#big.splice(position, 0, big);
    }
    if (at <= this.#from) {
      this.#lo += 1;
      this.#hi += 1;
    } else if (at <= this.#to) {
      this.#hi += 1;
      this.#add(code, value);
    }
  }

  /** Moves the window to (from, to]. Both bounds must not decrease (callers rebuild to go back). */
  moveTo(from: EpochMs, to: EpochMs): void {
    const at = this.#at;
    const codes = this.#code;
    const n = at.length;
    let lo = this.#lo;
    let hi = this.#hi;
    while (lo < n && at[lo]! <= from) {
      if (lo < hi) this.#subtract(codes[lo]!, this.#value(lo));
      lo += 1;
    }
    if (hi < lo) hi = lo;
    while (hi < n && at[hi]! <= to) {
      this.#add(codes[hi]!, this.#value(hi));
      hi += 1;
    }
    this.#from = from;
    this.#to = to;
    if (lo > FORGET_BATCH) {
      at.splice(0, lo);
      codes.splice(0, lo);
      this.#m.splice(0, lo);
      this.#e.splice(0, lo);
      this.#big.splice(0, lo);
      hi -= lo;
      lo = 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }

  /** Item i's value: the same m and e as the Fixed inserted (a Fixed's operations read only those, or `big`). */
  #value(i: number): Fixed {
    return this.#big[i] ?? Fixed.of(this.#m[i]!, this.#e[i]!);
  }

  #add(code: number, value: Fixed): void {
    const sums = this.#sums;
    if (code >= 0) sums[code] = sums[code]!.plus(value);
    else sums[~code] = sums[~code]!.minus(value);
  }

  #subtract(code: number, value: Fixed): void {
    const sums = this.#sums;
    if (code >= 0) sums[code] = sums[code]!.minus(value);
    else sums[~code] = value.big === undefined ? sums[~code]!.plus(value) : sums[~code]!.minus(value.negated());
  }
}
